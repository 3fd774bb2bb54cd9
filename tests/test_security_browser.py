"""Every main page works in Chromium under the Content-Security-Policy: no violation, no console error."""

import pytest

from surveys.services import invitation_create
from tests.conftest import browser_login
from tests.customers.factories import CustomerFactory, InteractionFactory
from tests.surveys.factories import SurveyFactory, SurveyTextFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COLLECT = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


def test_the_main_pages_raise_no_csp_violation(page, live_server, admin) -> None:
    customer = CustomerFactory(name="Napat Srisuk")
    InteractionFactory(customer=customer)
    survey = SurveyFactory(slug="nps-csp")
    SurveyTextFactory(survey=survey, language="en")
    _, token = invitation_create(survey=survey, customer=customer)

    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(COLLECT)

    browser_login(page, live_server, "boss")
    paths = [
        "/customers/",
        f"/customers/{customer.pk}/",
        "/customers/import/",
        "/surveys/",
        "/surveys/follow-ups/",
        "/reports/",
        "/reports/segments/",
        "/accounts/two-factor/",
        "/admin/",
        "/admin/customers/customer/",
        f"/admin/customers/customer/{customer.pk}/change/",
        "/api/docs/",
        f"/s/{token}/",
    ]
    seen: dict[str, list[str]] = {}
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status < 400, (path, response and response.status)
        assert response.headers.get("content-security-policy"), path
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__violations")
        if violations:
            seen[path] = violations
    assert seen == {}
    assert [e for e in errors if "Content Security Policy" in e or "Refused to" in e] == []
    # The charts and the Swagger UI really ran (scripts from our own static files are allowed).
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)
