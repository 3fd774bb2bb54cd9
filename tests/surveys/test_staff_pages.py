import pytest
from django.core import mail
from django.template.loader import render_to_string
from django.test import RequestFactory

from surveys.models import FollowUp, Invitation
from surveys.selectors import invitation_by_token
from surveys.services import invitation_create, response_submit
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def answered(survey, score, owner=None, comment=""):
    invitation, _ = invitation_create(survey=survey, customer=CustomerFactory(owner=owner))
    return response_submit(invitation_id=invitation.pk, score=score, comment=comment)


@pytest.mark.parametrize(
    "url",
    ["/surveys/", "/surveys/nps-quarterly/", "/surveys/follow-ups/", "/surveys/send/", "/surveys/send/1/progress.json"],
)
def test_staff_pages_need_a_role(default_surveys, client, outsider_client, url) -> None:
    assert client.get(url).status_code == 302
    assert outsider_client.get(url).status_code == 403


def test_the_survey_list_shows_response_rates_in_fixed_queries(
    default_surveys, agent_client, django_assert_num_queries
) -> None:
    nps = default_surveys["nps"]
    for score in (9, 10, 3):
        answered(nps, score)
    invitation_create(survey=nps, customer=CustomerFactory())
    with django_assert_num_queries(5):  # session, user, role groups, surveys, jobs
        page = agent_client.get("/surveys/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "75.0 %" in html  # 3 answers / 4 sent


def test_the_survey_detail_shows_the_distribution_and_answers(nps, agent_client, django_assert_num_queries) -> None:
    for _ in range(30):
        answered(nps, 10)
    answered(nps, 2, comment="Too slow")
    # session, user, groups, survey, texts, distribution, open follow-ups, answers count, answers page
    with django_assert_num_queries(9):
        page = agent_client.get(f"/surveys/{nps.slug}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Too slow" in html
    assert "Answers by score" in html
    assert agent_client.get("/surveys/nope/").status_code == 404


class TestFollowUpQueue:
    def test_open_items_come_first_and_mine_filters(self, nps, agent, manager, agent_client) -> None:
        mine = answered(nps, 1, owner=agent, comment="mine-open")
        other = answered(nps, 2, owner=manager, comment="other-open")
        closed = answered(nps, 0, owner=agent, comment="mine-closed")
        closed.follow_up.status = FollowUp.Status.CLOSED
        from django.utils import timezone

        closed.follow_up.closed_at = timezone.now()
        closed.follow_up.save()
        html = agent_client.get("/surveys/follow-ups/").content.decode()
        assert html.index("mine-open") < html.index("other-open") < html.index("mine-closed")
        html = agent_client.get("/surveys/follow-ups/?mine=1").content.decode()
        assert "mine-open" in html
        assert "other-open" not in html
        html = agent_client.get("/surveys/follow-ups/?status=open").content.decode()
        assert "mine-closed" not in html
        assert mine and other

    def test_the_queue_is_paginated_with_a_pinned_query_count(
        self, nps, agent, agent_client, django_assert_num_queries
    ) -> None:
        for _ in range(30):
            answered(nps, 1, owner=agent)
        with django_assert_num_queries(6):  # session, user, groups, counts, page count, page rows
            page = agent_client.get("/surveys/follow-ups/")
        assert page.status_code == 200
        assert "Page 1 of 2" in page.content.decode()

    def test_closing_with_a_note(self, nps, agent, agent_client) -> None:
        response = answered(nps, 1, owner=agent)
        url = f"/surveys/follow-ups/{response.follow_up.pk}/close/"
        refused = agent_client.post(url, {"note": ""})
        assert refused.status_code == 302
        response.follow_up.refresh_from_db()
        assert response.follow_up.status == FollowUp.Status.OPEN
        done = agent_client.post(url, {"note": "Called; fixed the delivery.", "next": "/surveys/follow-ups/?mine=1"})
        assert done["Location"] == "/surveys/follow-ups/?mine=1"
        response.follow_up.refresh_from_db()
        assert (response.follow_up.status, response.follow_up.closed_by) == (FollowUp.Status.CLOSED, agent)
        evil = agent_client.post(url, {"note": "x", "next": "https://evil.example/"})
        assert evil["Location"] == "/surveys/follow-ups/"

    def test_closing_needs_post(self, nps, agent_client) -> None:
        response = answered(nps, 1)
        assert agent_client.get(f"/surveys/follow-ups/{response.follow_up.pk}/close/").status_code == 405


class TestProfilePanel:
    def test_it_lists_recent_invitations_and_offers_sending(self, nps, agent, django_assert_num_queries) -> None:
        customer = CustomerFactory(consent_email=True)
        invitation_create(survey=nps, customer=customer)
        invitation, _ = invitation_create(survey=nps, customer=customer)
        response_submit(invitation_id=invitation.pk, score=4, comment="meh")
        request = RequestFactory().get("/customers/1/")
        request.user = agent
        with django_assert_num_queries(2):  # active surveys, invitations with answers and follow-ups
            html = render_to_string("surveys/customer_surveys_panel.html", {"customer": customer, "request": request})
        assert "Quarterly NPS" in html
        assert "Follow-up open" in html
        assert "Answered" in html
        assert "detractor" in html
        assert "Create link to copy" in html

    def test_creating_a_link_shows_it_once(self, nps, agent_client) -> None:
        customer = CustomerFactory()
        page = agent_client.post(f"/surveys/invite/{customer.pk}/", {"survey": nps.pk, "action": "link"})
        assert page.status_code == 201
        token = page.content.decode().split("/s/")[1].split("/")[0]
        assert invitation_by_token(token).customer == customer
        again = agent_client.post(f"/surveys/invite/{customer.pk}/", {"survey": nps.pk, "action": "link"})
        assert again.status_code == 302
        forced = agent_client.post(
            f"/surveys/invite/{customer.pk}/", {"survey": nps.pk, "action": "link", "override": "on"}
        )
        assert forced.status_code == 201
        assert Invitation.objects.filter(customer=customer).count() == 2

    def test_emailing_from_the_profile(self, nps, agent_client, django_capture_on_commit_callbacks) -> None:
        customer = CustomerFactory(consent_email=True)
        with django_capture_on_commit_callbacks(execute=True):
            page = agent_client.post(f"/surveys/invite/{customer.pk}/", {"survey": nps.pk, "action": "email"})
        assert page.status_code == 302
        assert page["Location"] == f"/customers/{customer.pk}/"
        assert len(mail.outbox) == 1

    def test_no_email_without_consent(self, nps, agent_client) -> None:
        customer = CustomerFactory(consent_email=False)
        agent_client.post(f"/surveys/invite/{customer.pk}/", {"survey": nps.pk, "action": "email"})
        assert not Invitation.objects.exists()

    def test_outsiders_cannot_invite(self, nps, outsider_client) -> None:
        customer = CustomerFactory()
        assert outsider_client.post(f"/surveys/invite/{customer.pk}/", {"survey": nps.pk}).status_code == 403


def test_an_invalid_customer_filter_gets_400_on_the_send_page(nps, agent_client) -> None:
    assert agent_client.get("/surveys/send/?lifecycle_stage=bogus").status_code == 400
    assert agent_client.get("/surveys/send/?segment=missing").status_code == 400


def test_the_distribution_rounds_shares_half_up(csat) -> None:
    from surveys.selectors import survey_score_distribution

    for score in (5, 4, 4, 4, 4, 4, 4, 4):
        answered(csat, score)

    shares = {row["score"]: str(row["percent"]) for row in survey_score_distribution(csat)}

    assert (shares[5], shares[4], shares[1]) == ("13", "88", "0")  # 12.5 % and 87.5 %


def test_survey_headlines_follow_the_glossary_examples(default_surveys) -> None:
    from surveys.selectors import survey_headline

    def headline(kind, scores):
        survey = default_surveys[kind]
        low, high = survey.scale
        distribution = [{"score": s, "count": scores.count(s)} for s in range(low, high + 1)]
        return survey_headline(survey, distribution)

    nps = headline("nps", [10] * 300 + [7] * 100 + [3] * 100)
    assert (nps["n"], str(nps["value"])) == (500, "40")
    csat = headline("csat", [4, 5, 5, 3, 1])
    assert (csat["value"], csat["detail"]) == ("60.0 %", "mean 3.60")
    ces = headline("ces", [7, 6, 5, 2])
    assert (str(ces["value"]), ces["detail"]) == ("5.00", "75.0 % answered 5–7")
    assert headline("nps", [])["value"] is None
    assert str(headline("nps", [10] * 300 + [7] * 397 + [3] * 303)["value"]) == "0"  # −0.3 is not shown as "-0"
