from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from surveys.models import FollowUp, Invitation, Response
from surveys.services import invitation_create
from tests.customers.factories import CustomerFactory


def make_link(survey, **customer_fields):
    customer = CustomerFactory(**customer_fields)
    invitation, token = invitation_create(survey=survey, customer=customer)
    return invitation, token, f"/s/{token}/"


def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def get_form(client: Client, url: str) -> tuple[str, str]:
    """Open the page like a browser; returns (csrf token, revision)."""
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    csrf = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    revision = html.split('name="revision" value="')[1].split('"')[0]
    return csrf, revision


def post_answer(client: Client, url: str, **data):
    csrf, revision = get_form(client, url)
    payload = {"csrfmiddlewaretoken": csrf, "revision": revision, **data}
    return client.post(url, payload)


@pytest.mark.django_db
class TestOpeningALink:
    def test_it_shows_the_question_and_only_the_first_name(self, nps) -> None:
        _invitation, _, url = make_link(nps, name="Somchai Jaidee", first_name="Somchai", email="somchai@example.com")
        page = Client().get(url)
        html = page.content.decode()
        assert page.status_code == 200
        assert "Somchai" in html
        assert "Jaidee" not in html
        assert "somchai@example.com" not in html
        assert "How likely are you to recommend us" in html
        assert html.count('name="score"') == 11

    def test_opening_records_opened_at_but_never_an_answer(self, nps) -> None:
        invitation, _, url = make_link(nps)
        Client().get(url)
        Client().get(f"{url}?score=10")
        invitation.refresh_from_db()
        assert invitation.opened_at is not None
        assert invitation.answered_at is None
        assert not Response.objects.exists()

    def test_a_score_link_preselects_the_button(self, nps) -> None:
        _, _, url = make_link(nps)
        html = Client().get(f"{url}?score=3").content.decode()
        assert 'value="3" checked' in html

    @pytest.mark.parametrize("score", ["11", "-1", "abc", "3.5", ""])
    def test_a_bad_score_in_the_link_preselects_nothing(self, nps, score) -> None:
        _, _, url = make_link(nps)
        page = Client().get(f"{url}?score={score}")
        assert page.status_code == 200
        assert "checked" not in page.content.decode()

    @pytest.mark.parametrize(
        ("survey_kind", "buttons"), [("nps", 11), ("csat", 5), ("ces", 7)], ids=["nps", "csat", "ces"]
    )
    def test_each_kind_shows_its_scale(self, default_surveys, survey_kind, buttons) -> None:
        _, _, url = make_link(default_surveys[survey_kind])
        assert Client().get(url).content.decode().count('name="score"') == buttons


@pytest.mark.django_db
class TestLanguage:
    def test_it_uses_the_customers_language(self, nps) -> None:
        _, _, url = make_link(nps, language="th")
        page = Client().get(url)
        html = page.content.decode()
        assert '<html lang="th">' in html
        assert "ส่งคำตอบ" in html
        assert "คุณมีแนวโน้มที่จะแนะนำเรา" in html

    def test_the_invitations_language_wins_over_the_customers(self, nps) -> None:
        invitation, _, url = make_link(nps, language="th")
        Invitation.objects.filter(pk=invitation.pk).update(language="ms")
        assert "Hantar jawapan saya" in Client().get(url).content.decode()

    def test_the_switcher_changes_the_language(self, nps) -> None:
        _, _, url = make_link(nps, language="th")
        html = Client().get(f"{url}?lang=zh-hant").content.decode()
        assert '<html lang="zh-hant">' in html
        assert "送出回覆" in html
        assert 'href="?lang=ms"' in html

    def test_unknown_link_uses_the_browsers_language(self, db) -> None:
        page = Client().get("/s/" + "x" * 32 + "/", HTTP_ACCEPT_LANGUAGE="ms")
        assert page.status_code == 404
        assert "Pautan ini tidak sah" in page.content.decode()

    @pytest.mark.parametrize(
        ("language", "thanks"),
        [("en", "Thank you"), ("th", "ขอบคุณ"), ("zh-hant", "謝謝您"), ("ms", "Terima kasih")],
    )
    @pytest.mark.parametrize("kind", ["nps", "csat", "ces"])
    def test_every_kind_can_be_answered_in_every_language(self, default_surveys, kind, language, thanks) -> None:
        invitation, _, url = make_link(default_surveys[kind], language=language)
        client = csrf_client()
        answer = post_answer(client, url, score="4", comment="ok")
        assert answer.status_code == 303
        page = client.get(answer["Location"])
        assert page.status_code == 200
        assert thanks in page.content.decode()
        response = Response.objects.get(invitation=invitation)
        assert (response.score, response.language, response.kind) == (4, language, kind)


@pytest.mark.django_db
class TestAnswering:
    def test_posting_records_the_answer_and_redirects_to_thanks(self, nps) -> None:
        invitation, token, url = make_link(nps)
        answer = post_answer(csrf_client(), url, score="9", comment="Great")
        assert answer.status_code == 303
        assert answer["Location"].startswith(f"/s/{token}/thanks/")
        invitation.refresh_from_db()
        assert invitation.answered_at is not None
        assert invitation.response.score == 9
        assert invitation.response.comment == "Great"

    def test_the_customer_can_change_the_answer_until_expiry(self, nps) -> None:
        invitation, _, url = make_link(nps)
        client = csrf_client()
        post_answer(client, url, score="3", comment="slow")
        page = client.get(url).content.decode()
        assert "Change my answer" in page
        assert 'value="3" checked' in page
        changed = post_answer(client, url, score="8", comment="better now")
        assert changed.status_code == 303
        response = Response.objects.get(invitation=invitation)
        assert (response.score, response.comment, response.revision) == (8, "better now", 2)
        assert Response.objects.count() == 1

    def test_a_replayed_post_is_refused_with_409_and_no_second_answer(self, nps) -> None:
        _invitation, _, url = make_link(nps)
        client = csrf_client()
        csrf, revision = get_form(client, url)
        payload = {"csrfmiddlewaretoken": csrf, "revision": revision, "score": "9"}
        assert client.post(url, payload).status_code == 303
        replay = client.post(url, {**payload, "score": "2"})
        assert replay.status_code == 409
        assert "already been recorded" in replay.content.decode()
        assert Response.objects.get().score == 9

    def test_answering_a_detractor_score_opens_a_follow_up(self, nps, agent) -> None:
        _invitation, _, url = make_link(nps, owner=agent)
        post_answer(csrf_client(), url, score="2")
        follow_up = FollowUp.objects.get()
        assert follow_up.assigned_to == agent
        assert follow_up.status == FollowUp.Status.OPEN


@pytest.mark.django_db
class TestBadInput:
    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({}, "Please choose a score."),
            ({"score": ""}, "Please choose a score."),
            ({"score": "11"}, "Please choose one of the score buttons."),
            ({"score": "-1"}, "Please choose one of the score buttons."),
            ({"score": "abc"}, "Please choose one of the score buttons."),
            ({"score": "5.5"}, "Please choose one of the score buttons."),
            ({"score": "9" * 400}, "Please choose one of the score buttons."),
            ({"score": ["3", "x"]}, "Please choose one of the score buttons."),
        ],
        ids=["missing", "empty", "too-high", "negative", "letters", "decimal", "huge-number", "two-values"],
    )
    def test_bad_scores_get_400_with_a_clear_message(self, nps, data, message) -> None:
        _, _, url = make_link(nps)
        page = post_answer(csrf_client(), url, **data)
        assert page.status_code == 400
        assert message in page.content.decode()
        assert not Response.objects.exists()

    def test_a_score_outside_a_csat_scale_is_refused(self, csat) -> None:
        _, _, url = make_link(csat)
        for score in ("0", "6"):
            assert post_answer(csrf_client(), url, score=score).status_code == 400
        assert not Response.objects.exists()

    def test_a_too_long_comment_is_refused(self, nps) -> None:
        _, _, url = make_link(nps)
        page = post_answer(csrf_client(), url, score="9", comment="x" * 2001)
        assert page.status_code == 400
        assert "under 2000 characters" in page.content.decode()
        assert not Response.objects.exists()

    def test_a_comment_at_the_limit_with_line_breaks_is_accepted_as_the_browser_counts_it(self, nps) -> None:
        # 2,000 characters as the textarea counts them (a line break is one), sent with CRLF as browsers do.
        lines = ["x" * 99] * 20
        comment = "\r\n".join(lines) + "x"
        assert len(comment.replace("\r\n", "\n")) == 2000 and len(comment) > 2000
        _, _, url = make_link(nps)
        page = post_answer(csrf_client(), url, score="9", comment=comment)
        assert page.status_code in (302, 303)
        assert Response.objects.get().comment == comment.replace("\r\n", "\n")

    def test_a_huge_body_is_refused_with_400(self, nps) -> None:
        _, _, url = make_link(nps)
        page = post_answer(csrf_client(), url, score="9", comment="x" * 3_000_000)
        assert page.status_code == 400
        assert not Response.objects.exists()

    @pytest.mark.parametrize("comment", ["nul\x00byte", "bell\x07", "\x89PNG\r\n\x1a\n\x00\x00"])
    def test_binary_comments_are_refused(self, nps, comment) -> None:
        _, _, url = make_link(nps)
        page = post_answer(csrf_client(), url, score="9", comment=comment)
        assert page.status_code == 400
        assert "characters we cannot read" in page.content.decode()
        assert not Response.objects.exists()

    def test_invalid_utf8_bytes_are_refused(self, nps) -> None:
        _, _, url = make_link(nps)
        client = csrf_client()
        csrf, _ = get_form(client, url)
        body = b"csrfmiddlewaretoken=" + csrf.encode() + b"&revision=0&score=9&comment=%FF%FE%00%C3"
        page = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert page.status_code == 400
        assert not Response.objects.exists()

    def test_a_multipart_file_instead_of_a_comment_is_ignored_or_refused(self, nps) -> None:
        import io

        _, _, url = make_link(nps)
        client = csrf_client()
        csrf, _ = get_form(client, url)
        upload = io.BytesIO(b"\x00\x01\x02" * 1000)
        upload.name = "blob.bin"
        page = client.post(url, {"csrfmiddlewaretoken": csrf, "revision": "0", "score": "9", "comment": upload})
        assert page.status_code in (303, 400)
        if page.status_code == 303:
            assert Response.objects.get().comment == ""

    def test_missing_csrf_token_gets_403_with_a_clear_page(self, nps) -> None:
        _, _, url = make_link(nps, language="th")
        page = csrf_client().post(url, {"score": "9", "revision": "0"})
        assert page.status_code == 403
        assert "กรุณาลองอีกครั้ง" in page.content.decode()
        assert not Response.objects.exists()

    def test_a_wrong_csrf_token_gets_403(self, nps) -> None:
        _, _, url = make_link(nps)
        client = csrf_client()
        get_form(client, url)
        page = client.post(url, {"csrfmiddlewaretoken": "x" * 64, "score": "9", "revision": "0"})
        assert page.status_code == 403
        assert "Please try again" in page.content.decode()

    def test_other_methods_get_405(self, nps) -> None:
        _, _, url = make_link(nps)
        assert Client().put(url).status_code == 405
        assert Client().delete(url).status_code == 405


@pytest.mark.django_db
class TestLinkStates:
    def test_unknown_and_tampered_links_look_the_same(self, nps) -> None:
        _, token, _ = make_link(nps)
        tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
        unknown = "Q" * len(token)
        pages = [Client().get(f"/s/{t}/") for t in (tampered, unknown, "short", "a" * 300, "%ff")]
        assert {p.status_code for p in pages} == {404}
        bodies = {p.content.decode() for p in pages}
        assert len(bodies) == 1
        assert "This link is not valid" in bodies.pop()
        # A NUL byte is refused at the edge for every address, whatever the token: it tells nothing either.
        assert Client().get("/s/%00%ff/").status_code == 400

    def test_posting_to_an_unknown_link_gets_404(self, db) -> None:
        assert Client().post("/s/" + "Z" * 32 + "/", {"score": "9"}).status_code == 404
        assert not Response.objects.exists()

    def test_an_expired_link_says_the_survey_is_closed(self, nps) -> None:
        invitation, _, url = make_link(nps)
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        page = Client().get(url)
        assert page.status_code == 410
        assert "This survey is closed" in page.content.decode()
        assert "can no longer be answered" in page.content.decode()

    def test_posting_to_an_expired_link_records_nothing(self, nps) -> None:
        invitation, _, url = make_link(nps)
        client = csrf_client()
        csrf, _ = get_form(client, url)
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        page = client.post(url, {"csrfmiddlewaretoken": csrf, "revision": "0", "score": "9"})
        assert page.status_code == 410
        assert not Response.objects.exists()

    def test_an_answered_link_shows_the_answer_until_expiry_then_is_closed(self, nps) -> None:
        invitation, token, url = make_link(nps)
        client = csrf_client()
        post_answer(client, url, score="10")
        page = client.get(url).content.decode()
        assert "we have your answer: 10" in page
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        closed = client.get(url)
        assert closed.status_code == 410
        assert "can no longer be changed" in closed.content.decode()
        thanks = client.get(f"/s/{token}/thanks/")
        assert thanks.status_code == 200
        assert "Change my answer" not in thanks.content.decode()

    def test_the_thanks_page_of_an_unanswered_link_goes_back_to_the_form(self, nps) -> None:
        _, token, url = make_link(nps)
        page = Client().get(f"/s/{token}/thanks/")
        assert page.status_code == 302
        assert page["Location"] == url

    def test_the_reminder_link_opens_the_same_invitation(self, nps) -> None:
        from surveys.tokens import hash_token, new_token

        invitation, _, _ = make_link(nps)
        reminder_token = new_token()
        Invitation.objects.filter(pk=invitation.pk).update(reminder_token_hash=hash_token(reminder_token))
        post_answer(csrf_client(), f"/s/{reminder_token}/", score="7")
        assert Response.objects.get().invitation == invitation

    def test_pages_are_not_cached_and_send_no_referrer_to_other_sites(self, nps) -> None:
        _, _, url = make_link(nps)
        page = Client().get(url)
        assert page["Cache-Control"] == "no-store"
        assert page["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_opening_a_link_takes_a_fixed_number_of_queries(nps, django_assert_num_queries) -> None:
    _, _, url = make_link(nps)
    # invitation with survey and customer, opened_at, answer, survey texts
    with django_assert_num_queries(4):
        assert Client().get(url).status_code == 200
