import pytest

from customers.demo_data import ensure_default_surveys
from surveys.models import FollowUp
from surveys.services import invitation_create, response_submit
from tests.conftest import browser_login
from tests.customers.factories import CustomerFactory


@pytest.fixture(autouse=True)
def role_groups(transactional_db: None) -> None:
    """An earlier live-server test's flush removes the groups the role migration made."""
    from django.contrib.auth.models import Group

    for name in ("Agent", "Manager", "Admin"):
        Group.objects.get_or_create(name=name)


@pytest.mark.browser
def test_an_agent_closes_a_detractor_follow_up_with_a_note(page, live_server, agent, artifacts_dir) -> None:
    nps = next(s for s in ensure_default_surveys() if s.kind == "nps")
    customer = CustomerFactory(name="Farah binti Ismail", owner=agent)
    invitation, _ = invitation_create(survey=nps, customer=customer)
    response_submit(invitation_id=invitation.pk, score=3, comment="Delivery was late")

    browser_login(page, live_server, "agent")
    page.goto(f"{live_server.url}/surveys/follow-ups/?mine=1")
    row = page.get_by_role("row").filter(has_text="Farah binti Ismail")
    assert "Delivery was late" in row.inner_text()
    page.screenshot(path=str(artifacts_dir / "survey-follow-ups.png"), full_page=True)
    row.get_by_label("Note").fill("Called Farah, apologised and refunded the delivery fee.")
    row.get_by_role("button", name="Close with note").click()
    page.get_by_text("closed. The note is on the timeline.").wait_for()
    follow_up = FollowUp.objects.get()
    assert follow_up.status == FollowUp.Status.CLOSED
    assert follow_up.closed_by == agent

    page.goto(f"{live_server.url}/surveys/")
    assert page.get_by_role("link", name="Quarterly NPS").is_visible()
    page.screenshot(path=str(artifacts_dir / "survey-list.png"), full_page=True)


@pytest.mark.browser
def test_the_profile_invitations_table_stays_inside_the_page_width(page, live_server, agent) -> None:
    surveys = ensure_default_surveys()
    customer = CustomerFactory(name="Nur Aisyah binti Hassan", owner=agent)
    for survey in surveys:
        invitation, _ = invitation_create(survey=survey, customer=customer)
        response_submit(invitation_id=invitation.pk, score=1, comment="Terlalu lambat " * 10)

    browser_login(page, live_server, "agent")
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.get_by_role("heading", name="Recent invitations").wait_for()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0


@pytest.mark.browser
def test_the_staff_survey_pages_and_the_profile_fit_a_phone(phone_page, live_server, agent) -> None:
    nps = next(s for s in ensure_default_surveys() if s.kind == "nps")
    customer = CustomerFactory(name="Siriporn Wongsawat", owner=agent)
    invitation, _ = invitation_create(survey=nps, customer=customer)
    response_submit(invitation_id=invitation.pk, score=2, comment="รอนานเกินไป ไม่มีใครติดต่อกลับมาเลย " * 3)

    browser_login(phone_page, live_server, "agent")
    for path in ["/surveys/", "/surveys/follow-ups/", f"/surveys/{nps.slug}/", f"/customers/{customer.pk}/"]:
        phone_page.goto(f"{live_server.url}{path}")
        overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, path
