"""Realistic synthetic data: customers in Thailand, Malaysia, Taiwan and Singapore with names in
their own scripts, and two years of interactions, orders, engagement events and survey answers.

`generate()` writes straight to the tables with bulk COPY/INSERT (see customers.bulk) so that
100k customers load in well under a minute on PostgreSQL. The demo seeder and the metrics
benchmark both use it; `Volumes` sets how much happens per customer.
"""

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from customers.bulk import load_rows, next_id, reset_sequences
from customers.demo_names import (
    CHINESE_GIVEN,
    CHINESE_SURNAMES,
    MALAY_FATHERS,
    MALAY_FEMALE,
    MALAY_MALE,
    SG_ENGLISH,
    SG_GIVEN,
    SG_INDIAN,
    SG_SURNAMES,
    THAI_FIRST,
    THAI_LAST,
)
from customers.models import Customer, EngagementEvent, Interaction, Order, Referral

COMPANIES = ["", "", "", "Siam Trading Co.", "Lotus Foods", "Harbour Logistics", "Jade Digital", "Merdeka Retail"]
CITIES = {
    "TH": ["Bangkok", "Chiang Mai", "Phuket", "Khon Kaen"],
    "TW": ["Taipei", "Taichung", "Kaohsiung", "Tainan"],
    "MY": ["Kuala Lumpur", "Penang", "Johor Bahru", "Kota Kinabalu"],
    "SG": ["Singapore"],
}
COUNTRY_WEIGHTS = [("TH", 0.35), ("MY", 0.25), ("TW", 0.25), ("SG", 0.15)]
SUBJECTS = [
    "Cannot log in",
    "Invoice question",
    "Delivery delayed",
    "Upgrade plan",
    "Refund request",
    "Feature question",
    "Onboarding call",
    "Quarterly review",
    "Password reset",
    "Bug report",
]
CAMPAIGNS = ["newsletter-jan", "songkran-sale", "hari-raya", "lunar-new-year", "11-11", "year-end"]
# Comments by sentiment, so a detractor never says "great service".
POSITIVE_COMMENTS = ["Great service, thank you!", "บริการดีมาก", "客服很快回覆", "Perkhidmatan yang baik"]
NEUTRAL_COMMENTS = ["OK overall", "พอใช้ได้", "還可以", "Boleh tahan"]
NEGATIVE_COMMENTS = ["Too slow to answer", "ส่งของช้า", "價格太高", "Masalah saya belum selesai"]


@dataclass(frozen=True)
class Volumes:
    """Average number of rows per customer."""

    interactions: float = 3.0
    orders: float = 3.0
    events: float = 6.0
    invitations: float = 1.5
    answer_share: float = 0.6
    referral_share: float = 0.05


DEMO = Volumes()
# The proportions the metrics benchmark asks for: ≈ 10 interactions, 3 answers, 5 orders per customer.
BENCH = Volumes(interactions=10, orders=5, events=8, invitations=4, answer_share=0.75, referral_share=0.05)


def _name(rng: random.Random, country: str) -> tuple[str, str, str]:
    """(full name, first name, language) in the country's script."""
    if country == "TH":
        first = rng.choice(THAI_FIRST)
        return f"{first} {rng.choice(THAI_LAST)}", first, "th" if rng.random() < 0.8 else "en"
    if country == "TW":
        given = rng.choice(CHINESE_GIVEN)
        return f"{rng.choice(CHINESE_SURNAMES)}{given}", given, "zh-hant" if rng.random() < 0.85 else "en"
    if country == "MY":
        if rng.random() < 0.7:
            if rng.random() < 0.5:
                first = rng.choice(MALAY_MALE)
                return f"{first} bin {rng.choice(MALAY_FATHERS)}", first, "ms" if rng.random() < 0.7 else "en"
            first = rng.choice(MALAY_FEMALE)
            return f"{first} binti {rng.choice(MALAY_FATHERS)}", first, "ms" if rng.random() < 0.7 else "en"
        given = rng.choice(CHINESE_GIVEN)
        return f"{rng.choice(CHINESE_SURNAMES)}{given}", given, "zh-hant" if rng.random() < 0.5 else "en"
    roll = rng.random()
    if roll < 0.15:
        full = rng.choice(SG_INDIAN)
        return full, full.split(" ")[0], "en"
    surname = rng.choice(SG_SURNAMES)
    if roll < 0.55:
        # An English name often comes with the Chinese one: "Rachel Tan Hui Min".
        first = rng.choice(SG_ENGLISH)
        full = f"{first} {surname} {rng.choice(SG_GIVEN)}" if roll < 0.4 else f"{first} {surname}"
        return full, first, "en"
    given = rng.choice(SG_GIVEN)
    return f"{surname} {given}", given, "en"


def _count(rng: random.Random, mean: float) -> int:
    """A count around `mean` (0 .. 2×mean), cheap to draw."""
    if mean <= 0:
        return 0
    return int(rng.random() * 2 * mean + 0.5)


def _moment(rng: random.Random, start: date, end: date) -> datetime:
    span = max((end - start).days, 0)
    day = start + timedelta(days=rng.randint(0, span))
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(seconds=rng.randint(0, 86_399))


@dataclass
class Generated:
    customers: int = 0
    interactions: int = 0
    orders: int = 0
    events: int = 0
    invitations: int = 0
    responses: int = 0
    referrals: int = 0


def generate(*, customers: int, volumes: Volumes = DEMO, seed: int = 7, today: date | None = None) -> Generated:
    """Add `customers` customers and their history. Returns how many rows of each kind were written."""
    from surveys.models import FollowUp, Invitation, Response, Survey

    rng = random.Random(seed)
    today = today or timezone.localdate()
    start_of_history = today - timedelta(days=730)
    result = Generated()
    surveys = ensure_default_surveys()
    staff_ids = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=["Agent", "Manager"])
        .values_list("id", flat=True)
    )
    now = timezone.now()

    def moment(start: date, end: date) -> datetime:
        """A random moment on the days from start to end, never in the future."""
        return min(_moment(rng, start, end), now)

    first_customer_id = next_id(Customer)
    ids = {"interaction": next_id(Interaction), "invitation": next_id(Invitation), "response": next_id(Response)}

    # Lifespans are drawn once and shared by every table generated below.
    lifespans: list[tuple[int, date, date | None, str]] = []
    customer_rows: list[tuple] = []
    for offset in range(customers):
        cid = first_customer_id + offset
        country = rng.choices([c for c, _ in COUNTRY_WEIGHTS], [w for _, w in COUNTRY_WEIGHTS])[0]
        full, first, language = _name(rng, country)
        acquired = start_of_history + timedelta(days=rng.randint(0, 725))
        churned = None
        if rng.random() < 0.22:
            churned = acquired + timedelta(days=rng.randint(1, max((today - acquired).days, 1)))
            churned = min(churned, today)
        stage = "churned" if churned else ("at_risk" if rng.random() < 0.1 else "active")
        plan = rng.choices(["free", "basic", "pro", "enterprise"], [0.4, 0.3, 0.2, 0.1])[0]
        customer_rows.append(
            (
                cid,
                f"C{cid:08d}",
                full,
                first,
                f"customer{cid}@example.com",
                f"+{rng.randint(60, 886)}{cid:09d}",
                rng.choice(COMPANIES),
                country,
                rng.choice(CITIES[country]),
                language,
                stage,
                plan,
                acquired,
                churned,
                rng.choice(staff_ids) if staff_ids else None,
                rng.random() < 0.7,
                rng.random() < 0.3,
                now,
                now,
            )
        )
        lifespans.append((cid, acquired, churned, country))

    def interactions() -> Iterator[tuple]:
        for cid, acquired, churned, _ in lifespans:
            end = churned or today
            for _ in range(_count(rng, volumes.interactions)):
                opened = moment(acquired, end)
                first_response = opened + timedelta(minutes=rng.randint(5, 2880)) if rng.random() < 0.85 else None
                resolved = None
                if first_response and rng.random() < 0.8:
                    resolved = first_response + timedelta(minutes=rng.randint(30, 10_000))
                # What has not happened yet has not happened: recent interactions stay open.
                if first_response and first_response > now:
                    first_response = None
                if resolved and resolved > now:
                    resolved = None
                status = "resolved" if resolved else rng.choice(["open", "waiting"])
                yield (
                    ids["interaction"],
                    cid,
                    rng.choice(staff_ids) if staff_ids else None,
                    rng.choice(["email", "phone", "chat", "social", "in_person", "web"]),
                    rng.choice(["inbound", "inbound", "outbound"]),
                    rng.choice(["support", "support", "sales", "onboarding", "billing", "feedback", "meeting"]),
                    rng.choice(SUBJECTS),
                    "",
                    status,
                    opened,
                    first_response,
                    resolved,
                    now,
                    now,
                )
                ids["interaction"] += 1
                result.interactions += 1

    base = settings.BASE_CURRENCY

    def orders() -> Iterator[tuple]:
        for cid, acquired, churned, _ in lifespans:
            end = churned or today
            for _ in range(_count(rng, volumes.orders)):
                amount = Decimal(str(round(rng.lognormvariate(4.2, 0.6), 2)))
                referrer = None
                if rng.random() < 0.03 and cid > first_customer_id:
                    referrer = rng.randint(first_customer_id, cid - 1)
                # Demo shops sell in the base currency: the base amount is the amount, at rate 1.
                yield (cid, None, amount, base, amount, 1, moment(acquired, end), referrer, now)
                result.orders += 1

    def events() -> Iterator[tuple]:
        # Opens, clicks and unsubscribes only ever follow a send of the same campaign, so open rate and
        # CTR stay within 0-100 %.
        kinds = [
            "session",
            "page_view",
            "email",
            "social_like",
            "social_share",
            "social_comment",
            "event_registered",
            "event_attended",
        ]
        weights = [16, 6, 20, 3, 1, 1, 1, 0.5]
        for cid, acquired, churned, _ in lifespans:
            end = churned or today
            for _ in range(_count(rng, volumes.events)):
                kind = rng.choices(kinds, weights)[0]
                at = moment(acquired, end)
                if kind == "email":
                    campaign = rng.choice(CAMPAIGNS)
                    yield (cid, "email_sent", campaign, None, None, None, at)
                    result.events += 1
                    if rng.random() < 0.3:
                        yield (
                            cid,
                            "email_opened",
                            campaign,
                            None,
                            None,
                            None,
                            min(at + timedelta(hours=rng.randint(1, 48)), now),
                        )
                        result.events += 1
                        if rng.random() < 0.33:
                            yield (cid, "email_clicked", campaign, None, None, None, min(at + timedelta(hours=49), now))
                            result.events += 1
                    if rng.random() < 0.01:
                        yield (
                            cid,
                            "email_unsubscribed",
                            campaign,
                            None,
                            None,
                            None,
                            min(at + timedelta(hours=50), now),
                        )
                        result.events += 1
                    continue
                session = kind == "session"
                yield (
                    cid,
                    kind,
                    "",
                    rng.randint(20, 1800) if session else None,
                    rng.randint(1, 12) if session else None,
                    None,
                    at,
                )
                result.events += 1

    responses: list[tuple] = []
    follow_ups: list[tuple] = []

    def invitations() -> Iterator[tuple]:
        scores = {
            "nps": (list(range(11)), [2, 1, 1, 2, 2, 3, 4, 8, 14, 25, 20]),
            "csat": ([1, 2, 3, 4, 5], [5, 7, 15, 38, 35]),
            "ces": ([1, 2, 3, 4, 5, 6, 7], [3, 4, 8, 15, 25, 25, 20]),
        }
        for cid, acquired, churned, _ in lifespans:
            end = churned or today
            language = customer_rows[cid - first_customer_id][9]
            for _ in range(_count(rng, volumes.invitations)):
                survey = rng.choice(surveys)
                sent = moment(acquired, end)
                answered = sent + timedelta(hours=rng.randint(1, 120)) if rng.random() < volumes.answer_share else None
                if answered and answered > now:
                    answered = None
                token_hash = hashlib.sha256(rng.getrandbits(128).to_bytes(16, "big")).hexdigest()
                yield (
                    ids["invitation"],
                    survey.id,
                    cid,
                    None,
                    "email",
                    token_hash,
                    language,
                    None,
                    sent,
                    sent,
                    answered,
                    sent + timedelta(days=survey.link_lifetime_days),
                    None,
                    answered,
                )
                if answered:
                    values, weights = scores[survey.kind]
                    score = rng.choices(values, weights)[0]
                    comment = ""
                    if rng.random() < 0.3:
                        low, high = Survey.SCALES[survey.kind]
                        if score <= Survey.DETRACTOR_MAX[survey.kind]:
                            comment = rng.choice(NEGATIVE_COMMENTS)
                        elif score >= high - (high - low) // 5:
                            comment = rng.choice(POSITIVE_COMMENTS)
                        else:
                            comment = rng.choice(NEUTRAL_COMMENTS)
                    responses.append(
                        (
                            ids["response"],
                            ids["invitation"],
                            cid,
                            survey.kind,
                            score,
                            comment,
                            language,
                            answered,
                            answered,
                        )
                    )
                    if score <= Survey.DETRACTOR_MAX[survey.kind] and (now - answered).days < 60:
                        follow_ups.append((ids["response"], cid, "open", "", answered))
                    ids["response"] += 1
                ids["invitation"] += 1
                result.invitations += 1

    with transaction.atomic():
        result.customers = load_rows(
            Customer,
            [
                "id",
                "external_id",
                "name",
                "first_name",
                "email",
                "phone",
                "company",
                "country",
                "city",
                "language",
                "lifecycle_stage",
                "plan",
                "acquired_at",
                "churned_at",
                "owner_id",
                "consent_email",
                "consent_sms",
                "created_at",
                "updated_at",
            ],
            customer_rows,
        )
        load_rows(
            Interaction,
            [
                "id",
                "customer_id",
                "staff_id",
                "channel",
                "direction",
                "kind",
                "subject",
                "notes",
                "status",
                "opened_at",
                "first_response_at",
                "resolved_at",
                "created_at",
                "updated_at",
            ],
            interactions(),
        )
        load_rows(
            Order,
            [
                "customer_id",
                "external_id",
                "amount",
                "currency",
                "amount_base",
                "exchange_rate",
                "ordered_at",
                "referred_by_id",
                "created_at",
            ],
            orders(),
        )
        load_rows(
            EngagementEvent,
            ["customer_id", "kind", "campaign", "duration_seconds", "pages", "external_id", "occurred_at"],
            events(),
        )
        load_rows(
            Invitation,
            [
                "id",
                "survey_id",
                "customer_id",
                "interaction_id",
                "channel",
                "token_hash",
                "language",
                "created_by_id",
                "created_at",
                "sent_at",
                "opened_at",
                "expires_at",
                "reminded_at",
                "answered_at",
            ],
            invitations(),
        )
        result.responses = load_rows(
            Response,
            [
                "id",
                "invitation_id",
                "customer_id",
                "kind",
                "score",
                "comment",
                "language",
                "submitted_at",
                "updated_at",
            ],
            responses,
        )
        owners = {row[0]: row[14] for row in customer_rows}
        load_rows(
            FollowUp,
            ["response_id", "customer_id", "status", "note", "created_at", "assigned_to_id"],
            ((*row, owners[row[1]]) for row in follow_ups),
        )
        referral_rows = []
        for cid, acquired, _, _ in lifespans:
            if rng.random() < volumes.referral_share:
                converted = None
                if rng.random() < 0.4 and cid > first_customer_id:
                    converted = rng.randint(first_customer_id, cid - 1)
                referral_rows.append((cid, "", f"friend.of.{cid}@example.com", converted, moment(acquired, today)))
        # A customer can be the converted side of one referral only.
        seen: set[int] = set()
        referral_rows = [r for r in referral_rows if r[3] is None or not (r[3] in seen or seen.add(r[3]))]
        result.referrals = load_rows(
            Referral,
            ["referrer_id", "referred_name", "referred_email", "converted_customer_id", "created_at"],
            referral_rows,
        )
        reset_sequences(Customer, Interaction, Order, EngagementEvent, Referral, Invitation, Response, FollowUp)
    return result


SURVEY_TEXTS = {
    "nps": {
        "en": (
            "How likely are you to recommend us to a friend or colleague?",
            "What is the main reason for your score?",
            "Not at all likely",
            "Extremely likely",
        ),
        "th": (
            "คุณมีแนวโน้มที่จะแนะนำเราให้เพื่อนหรือเพื่อนร่วมงานมากน้อยเพียงใด",
            "เหตุผลหลักของคะแนนนี้คืออะไร",
            "ไม่แนะนำเลย",
            "แนะนำอย่างแน่นอน",
        ),
        "zh-hant": ("您有多大可能向朋友或同事推薦我們？", "您給這個分數的主要原因是什麼？", "完全不可能", "非常可能"),
        "ms": (
            "Sejauh manakah anda akan mengesyorkan kami kepada rakan atau rakan sekerja?",
            "Apakah sebab utama skor anda?",
            "Sama sekali tidak",
            "Sangat mungkin",
        ),
    },
    "csat": {
        "en": (
            "How satisfied were you with the help you received?",
            "What could we have done better?",
            "Very dissatisfied",
            "Very satisfied",
        ),
        "th": ("คุณพึงพอใจกับความช่วยเหลือที่ได้รับมากน้อยเพียงใด", "เราควรปรับปรุงสิ่งใด", "ไม่พอใจมาก", "พอใจมาก"),
        "zh-hant": ("您對所獲得的協助滿意嗎？", "我們可以在哪些方面做得更好？", "非常不滿意", "非常滿意"),
        "ms": (
            "Sejauh manakah anda berpuas hati dengan bantuan yang diterima?",
            "Apakah yang boleh kami perbaiki?",
            "Sangat tidak berpuas hati",
            "Sangat berpuas hati",
        ),
    },
    "ces": {
        "en": (
            "The company made it easy for me to handle my issue.",
            "What made it easy or hard?",
            "Strongly disagree",
            "Strongly agree",
        ),
        "th": ("บริษัททำให้การแก้ปัญหาของฉันเป็นเรื่องง่าย", "อะไรทำให้ง่ายหรือยาก", "ไม่เห็นด้วยอย่างยิ่ง", "เห็นด้วยอย่างยิ่ง"),
        "zh-hant": ("這家公司讓我輕鬆處理了我的問題。", "是什麼讓它變得容易或困難？", "非常不同意", "非常同意"),
        "ms": (
            "Syarikat memudahkan saya menyelesaikan isu saya.",
            "Apakah yang memudahkan atau menyukarkannya?",
            "Sangat tidak setuju",
            "Sangat setuju",
        ),
    },
}

DEFAULT_SURVEYS = [
    ("nps-quarterly", "Quarterly NPS", "nps", "every_n_days", 90, "none"),
    ("csat-support", "Support CSAT", "csat", "every_n_days", 7, "interaction_resolved"),
    ("ces-support", "Support effort (CES)", "ces", "every_n_days", 30, "none"),
]


def ensure_default_surveys() -> list:
    """The three standard surveys with their texts in all four languages (idempotent)."""
    from surveys.models import Survey, SurveyText

    surveys = []
    for slug, name, kind, rule, days, trigger in DEFAULT_SURVEYS:
        survey, _ = Survey.objects.get_or_create(
            slug=slug,
            defaults={"name": name, "kind": kind, "recontact_rule": rule, "recontact_days": days, "trigger": trigger},
        )
        for language, (question, follow_up, low, high) in SURVEY_TEXTS[kind].items():
            SurveyText.objects.get_or_create(
                survey=survey,
                language=language,
                defaults={"question": question, "follow_up": follow_up, "low_label": low, "high_label": high},
            )
        surveys.append(survey)
    return surveys


def demo_reset() -> int:
    """Delete every customer and what hangs off them, for `seed_demo --reset` (demo databases only):
    orders first (they protect their customer), then send jobs and invitations (the surveys stay), then
    the customers, whose interactions, events, referrals, answers and metrics rows cascade. Returns the
    number of customers deleted."""
    from django.db import transaction

    from customers.models import Customer, Order
    from surveys.models import Invitation, SurveySendJob

    with transaction.atomic():
        count = Customer.objects.count()
        Order.objects.all().delete()
        SurveySendJob.objects.all().delete()
        Invitation.objects.all().delete()
        Customer.objects.all().delete()
    return count
