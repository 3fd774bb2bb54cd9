"""Never a 500 from input: bad text, bodies and sizes get a 4xx at the edge, and errors render as JSON under /api/."""

import json
import logging
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from customers.imports import COLUMNS
from customers.models import Customer, Order
from surveys.services import invitation_create
from tests.api.conftest import token_client
from tests.customers.factories import CustomerFactory
from tests.surveys.factories import SurveyFactory, SurveyTextFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_api(agent):
    return token_client(agent)


@pytest.fixture
def link() -> str:
    survey = SurveyFactory(slug="nps-input")
    for language in ("en", "th"):
        SurveyTextFactory(survey=survey, language=language)
    _, token = invitation_create(survey=survey, customer=CustomerFactory(language="th"))
    return f"/s/{token}/"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


# The server errors of the report, now 4xx --------------------------------------------------------------


@pytest.mark.parametrize("levels", [33, 100_000])
def test_deeply_nested_json_on_an_api_endpoint_is_a_400(agent_api, levels: int) -> None:
    response = agent_api.post("/api/orders/bulk/", deep(levels), content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than 32" in response.json()["detail"]


def test_json_within_the_depth_limit_still_reaches_the_endpoint(agent_api) -> None:
    response = agent_api.post("/api/orders/bulk/", deep(20), content_type="application/json")
    assert response.status_code == 400
    assert "nested" not in json.dumps(response.json())  # refused by the endpoint's own validation


def test_an_unpaired_surrogate_in_a_bulk_items_external_id_is_a_400_that_renders(agent_api) -> None:
    CustomerFactory(external_id="SHOP-1")
    body = (
        '[{"external_id": "A-\\ud800", "customer_external_id": "SHOP-1", "amount": "1.00",'
        ' "ordered_at": "2026-05-04T10:00:00+07:00"}]'
    )
    response = agent_api.post("/api/orders/bulk/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The value at [0].external_id contains an unpaired surrogate."}
    assert not Order.objects.exists()


def test_a_paired_surrogate_escape_is_an_ordinary_character(agent_api) -> None:
    response = agent_api.post("/api/customers/?", '{"name": "Mali \\ud83d\\ude00"}', content_type="application/json")
    assert response.status_code in (201, 400)
    assert "surrogate" not in response.content.decode()


def test_a_form_post_declared_as_utf16_is_a_logged_400(agent_client, link, caplog) -> None:
    body = "subject=hello&score=9"  # the test client encodes it in the declared charset
    with caplog.at_level(logging.WARNING, logger="rapport.security"):
        staff = agent_client.post(
            "/customers/import/", body, content_type="application/x-www-form-urlencoded; charset=utf-16"
        )
        public = Client().post(link, body, content_type="application/x-www-form-urlencoded; charset=utf-16")
    assert staff.status_code == 400 and public.status_code == 400
    assert "We could not read what your browser sent" in staff.content.decode()  # staff page, English
    assert "เราไม่สามารถอ่านข้อมูล" in public.content.decode()  # the link's language (Thai customer)
    refusals = [r.getMessage() for r in caplog.records if r.name == "rapport.security"]
    assert len(refusals) == 2 and all("charset 'utf-16'" in m for m in refusals)


def test_a_nul_in_the_query_string_is_a_400(agent_client, agent_api, manager_client) -> None:
    assert agent_client.get("/customers/?q=a%00b").status_code == 400
    assert manager_client.get("/reports/compare/?a=all&b=%00").status_code == 400
    api = agent_api.get("/api/customers/?country=T%00H")
    assert api.status_code == 400 and api.json() == {"detail": "Bad request."}


# The class made impossible ------------------------------------------------------------------------------


def test_a_nul_in_a_form_body_or_a_header_is_a_400(agent_client, link) -> None:
    assert Client().post(link, {"score": "9", "comment": "fine\x00"}).status_code == 400
    assert agent_client.get("/customers/", HTTP_X_TRACE="a\x00b").status_code == 400
    assert agent_client.get("/customers/", HTTP_ACCEPT_LANGUAGE="th\x00").status_code == 400


def test_a_body_that_is_not_utf8_is_a_400(agent_api) -> None:
    response = agent_api.post("/api/customers/", b'{"name": "\xff"}', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


def test_a_body_too_large_is_a_413_in_the_links_language(link, agent_api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    public = Client().post(link, {"score": "9", "comment": "x" * 2000})
    assert public.status_code == 413
    assert "ข้อมูลมากเกินไป" in public.content.decode()
    api = agent_api.post("/api/customers/", {"name": "x" * 2000}, format="json")
    assert api.status_code == 413 and api.json() == {"detail": "Request body too large."}


def test_a_public_post_that_is_not_a_form_is_a_415(link) -> None:
    response = Client().post(f"{link}?lang=ms", "score=9", content_type="text/plain")
    assert response.status_code == 415
    assert "Tidak difahami" in response.content.decode()
    assert response["Content-Language"] == "ms"


def test_the_api_answers_json_for_an_unsupported_media_type(agent_api) -> None:
    response = agent_api.post("/api/customers/", "<customer/>", content_type="application/xml")
    assert response.status_code == 415
    assert "detail" in response.json()


def test_a_server_error_in_the_api_is_json(agent) -> None:
    client = token_client(agent)
    client.raise_request_exception = False
    with mock.patch("customers.api.views.CustomerViewSet.list", side_effect=RuntimeError("boom")):
        response = client.get("/api/customers/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error. The error has been logged."}


def test_a_server_error_on_a_survey_link_is_a_500_page_in_the_links_language(link) -> None:
    client = Client(raise_request_exception=False)
    with mock.patch("surveys.views.invitation_by_token", side_effect=RuntimeError("boom")):
        response = client.get(f"{link}?lang=zh-hant")
    assert response.status_code == 500
    assert "發生錯誤" in response.content.decode()


def test_a_server_error_on_a_staff_page_is_the_500_page(agent_client) -> None:
    agent_client.raise_request_exception = False
    with mock.patch("customers.views.render", side_effect=RuntimeError("boom")):
        response = agent_client.get("/customers/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_a_service_validation_error_in_the_api_is_a_400_not_a_500(agent) -> None:
    from django.core.exceptions import ValidationError

    client = token_client(agent)
    with mock.patch("customers.api.views.CustomerViewSet.list", side_effect=ValidationError({"name": ["Too long."]})):
        response = client.get("/api/customers/")
    assert response.status_code == 400
    assert response.json() == {"name": ["Too long."]}


def test_a_csv_import_reports_a_nul_in_a_row_and_imports_nothing(agent_client) -> None:
    header = ",".join(COLUMNS)
    filler = [f"F-{n},Filler {n},,,,,TH,,en,active,free,,2025-01-01," for n in range(200)]
    bad = "NUL-1,Bad\x00Name,,,,,TH,,en,active,free,,2025-01-01,"
    raw = "\r\n".join([header, *filler, bad]).encode()
    assert b"\x00" not in raw[:8192]
    upload = SimpleUploadedFile("customers.csv", raw, content_type="text/csv")
    response = agent_client.post("/customers/import/", {"file": upload})
    assert response.status_code in (200, 400)
    assert "Row 202" in response.content.decode() or "202" in response.content.decode()
    assert "Null characters are not allowed" in response.content.decode()
    assert not Customer.objects.filter(external_id__startswith="F-").exists()
