"""Bad input to the report pages gets a clear 4xx or a form error, never a server error, and loses nothing."""

import pytest

from customers.models import Segment
from tests.customers.factories import SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def vip() -> Segment:
    return SegmentFactory(name="VIP", slug="vip")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "0001-01", "to": "0001-12"}, "Choose months from 1900-01 on."),
        ({"from": "0001-01"}, "Choose months from 1900-01 on."),
        ({"from": "1899-12", "to": "1900-02"}, "Choose months from 1900-01 on."),
        ({"from": "0000-01"}, "Enter a month as YYYY-MM"),
        ({"from": "2026-05", "to": "2026-01"}, "The first month must not be after the last month."),
        ({"from": "2026-01\x00", "to": "2026-02"}, "Null characters are not allowed."),
        ({"from": "9999-12", "to": "9999-12"}, "The range cannot end after the current month."),
        ({"from": "2026-01", "group": "week\x00"}, "Select a valid choice."),
    ],
)
def test_a_bad_period_is_a_form_error_on_the_page_and_a_400_for_a_download(manager_client, vip, query, message):
    for url in ("/reports/", "/reports/segments/vip/"):
        response = manager_client.get(url, query)
        assert response.status_code == 200
        assert message in response.content.decode()
    download = manager_client.get("/reports/segments/vip/export/kpis.csv", query)
    assert download.status_code == 400
    assert message in download.content.decode()


def test_a_range_starting_in_1900_has_a_previous_period_and_renders(manager_client, vip):
    response = manager_client.get("/reports/segments/vip/", {"from": "1900-01", "to": "1909-12"})
    assert response.status_code == 200
    assert response.context["report"].months.length == 120


def test_a_nul_byte_in_the_compared_segments_is_an_unknown_segment_not_a_server_error(manager_client, vip):
    response = manager_client.get("/reports/compare/", {"segments": ["vip", "all-\x00customers"]})
    assert response.status_code == 400
    assert "Choose from two to 8 segments" in response.content.decode()
    response = manager_client.get("/reports/compare/", {"segments": ["vip", "all-customers", "no such\x00"]})
    assert response.status_code == 200


def test_a_bad_period_on_the_comparison_download_is_a_400(manager_client, vip):
    query = {"segments": ["vip", "all-customers"], "from": "0001-01", "format": "csv"}
    response = manager_client.get("/reports/compare/", query)
    assert response.status_code == 400
    assert "Choose months from 1900-01 on." in response.content.decode()


@pytest.mark.parametrize("slug", ["no such segment", "vip\x00", "ไทย/..", "a?b"])
def test_the_segment_picker_answers_404_for_a_name_no_segment_can_have(manager_client, vip, slug):
    assert manager_client.get("/reports/segments/", {"slug": slug}).status_code == 404


def test_the_segment_picker_still_opens_a_segment(manager_client, vip):
    response = manager_client.get("/reports/segments/", {"slug": "vip"})
    assert response.status_code == 302 and response["Location"] == "/reports/segments/vip/"
