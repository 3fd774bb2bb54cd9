import pytest

from customers.demo_data import ensure_default_surveys
from surveys.models import Response
from surveys.services import invitation_create
from tests.customers.factories import CustomerFactory


@pytest.fixture(autouse=True)
def _translations_and_fresh_limits() -> None:
    from django.core.cache import cache
    from django.core.management import call_command

    call_command("compiletranslations", verbosity=0)
    cache.clear()


@pytest.mark.browser
def test_a_customer_answers_an_nps_survey_in_thai_on_a_phone(phone_page, live_server, artifacts_dir) -> None:
    nps = next(s for s in ensure_default_surveys() if s.kind == "nps")
    customer = CustomerFactory(name="สมหญิง ใจดี", first_name="สมหญิง", language="th")
    invitation, token = invitation_create(survey=nps, customer=customer)
    page = phone_page

    page.goto(f"{live_server.url}/s/{token}/")
    assert page.locator("html").get_attribute("lang") == "th"
    assert page.get_by_text("สวัสดีคุณสมหญิง").is_visible()
    assert page.get_by_text("ใจดี").count() == 0
    page.get_by_role("group", name="คุณมีแนวโน้มที่จะแนะนำเรา").wait_for()
    # Large tap targets on a 390 px wide screen.
    box = page.locator("label[for=score-9]").bounding_box()
    assert box["height"] >= 44
    assert box["width"] >= 44
    page.locator("label[for=score-9]").tap()
    assert page.get_by_role("radio", name="9", exact=True).is_checked()
    page.get_by_label("เหตุผลหลักของคะแนนนี้คืออะไร").fill("บริการดีมาก")
    page.screenshot(path=str(artifacts_dir / "survey-phone-thai-form.png"), full_page=True)
    page.get_by_role("button", name="ส่งคำตอบ").tap()

    page.get_by_role("heading", name="ขอบคุณคุณสมหญิง!").wait_for()
    assert "เราได้รับคำตอบของคุณแล้ว" in page.content()
    page.screenshot(path=str(artifacts_dir / "survey-phone-thai-thanks.png"), full_page=True)
    response = Response.objects.get(invitation=invitation)
    assert (response.score, response.comment, response.language) == (9, "บริการดีมาก", "th")


@pytest.mark.browser
def test_the_score_buttons_work_with_the_keyboard(page, live_server) -> None:
    csat = next(s for s in ensure_default_surveys() if s.kind == "csat")
    _, token = invitation_create(survey=csat, customer=CustomerFactory(language="ms"))
    page.goto(f"{live_server.url}/s/{token}/?score=2")
    assert page.get_by_role("radio", name="2", exact=True).is_checked()
    page.get_by_role("radio", name="2", exact=True).focus()
    page.keyboard.press("ArrowRight")
    assert page.get_by_role("radio", name="3", exact=True).is_checked()
    page.get_by_role("button", name="Hantar jawapan saya").press("Enter")
    page.get_by_role("heading", name="Terima kasih").wait_for()
    assert Response.objects.get().score == 3
