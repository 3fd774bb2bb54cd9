"""CSV exports: every report table and the filtered customer list, safe and readable in spreadsheets."""

import csv
import io
from decimal import Decimal

import pytest

from core.calendar import add_months
from customers.models import Segment
from metrics.exports import csv_lines, neutralise
from tests.customers.factories import CustomerFactory, SegmentFactory
from tests.metrics.test_reports import WORKED, make_snapshot, period_query, this_month

pytestmark = pytest.mark.django_db

PAYLOADS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"]


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 byte order mark for spreadsheet programs"
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def streamed(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("payload", PAYLOADS)
def test_cells_that_would_start_a_formula_are_prefixed_with_a_quote(payload):
    assert neutralise(payload) == "'" + payload


def test_numbers_plain_text_and_empty_cells_are_written_as_they_are():
    assert neutralise(Decimal("-20.0")) == Decimal("-20.0")
    assert neutralise(-3) == -3
    assert neutralise("สมชาย ใจดี") == "สมชาย ใจดี"
    assert neutralise("a=b") == "a=b"
    assert neutralise(None) == ""


def test_a_csv_has_a_bom_crlf_line_ends_and_keeps_thai_and_chinese_text():
    content = "".join(csv_lines(["Name", "Comment"], [["陳志明", "ส่งของช้า, มาก"], ["=1+1", 'say "hi"']])).encode()
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.count(b"\r\n") == 3
    assert read_csv(content) == [["Name", "Comment"], ["陳志明", "ส่งของช้า, มาก"], ["'=1+1", 'say "hi"']]


@pytest.fixture
def vip() -> Segment:
    segment = SegmentFactory(name="VIP", slug="vip")
    make_snapshot(segment, this_month(), **WORKED)
    return segment


@pytest.mark.parametrize("table", ["kpis", "nps", "csat", "ces", "retention", "revenue", "nps-distribution", "cohorts"])
def test_every_report_table_downloads_as_csv(manager_client, vip, table):
    response = manager_client.get(f"/reports/segments/vip/export/{table}.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="vip-')
    assert f"-{table}-" in response["Content-Disposition"]
    rows = read_csv(response.content)
    assert rows[0][0]  # a header row


def test_the_key_figures_csv_holds_the_numbers(manager_client, vip):
    month = this_month()
    response = manager_client.get(f"/reports/segments/vip/?format=csv&table=kpis&{period_query(month, month)}")
    rows = {row[0]: row for row in read_csv(response.content)}
    assert rows["Metric"][:4] == ["Metric", "Value", "n", "Margin of error"]
    assert rows["NPS"][1:4] == ["40.0", "500", "7.0"]
    assert rows["Retention"][1] == "70.0"


def test_an_unknown_table_is_not_found(manager_client, vip):
    assert manager_client.get("/reports/segments/vip/export/nothing.csv").status_code == 404


def test_detractor_comments_export_neutralises_what_customers_typed(manager_client):
    from tests.surveys.factories import InvitationFactory, ResponseFactory, SurveyFactory

    customer = CustomerFactory(name="=cmd|' /C calc'!A0")
    ResponseFactory(
        invitation=InvitationFactory(customer=customer, survey=SurveyFactory(kind="nps")),
        score=1,
        comment="@SUM(1+1) 太慢了",
    )
    response = manager_client.get("/reports/segments/all-customers/export/comments.csv")
    rows = read_csv(response.content)
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][4] == "'@SUM(1+1) 太慢了"


def test_the_comparison_downloads_as_csv(manager_client, vip):
    SegmentFactory(name="ไทย", slug="thai")
    response = manager_client.get("/reports/compare/?segments=vip&segments=thai&format=csv")
    assert response.status_code == 200
    rows = read_csv(response.content)
    assert rows[0] == ["Metric", "VIP", "ไทย", "All customers"]
    assert "comparison" in response["Content-Disposition"]


def test_the_filtered_customer_list_downloads_with_thai_and_chinese_names(manager_client):
    CustomerFactory(name="สมชาย ใจดี", country="TH", external_id="T1")
    CustomerFactory(name="陳志明", country="TW", external_id="W1")
    CustomerFactory(name='=HYPERLINK("http://evil")', country="TH", external_id="T2")
    response = manager_client.get("/reports/customers.csv?country=TH")
    assert response.status_code == 200
    assert response.streaming
    assert 'filename="customers-' in response["Content-Disposition"]
    rows = read_csv(streamed(response))
    assert rows[0][:4] == ["External id", "Name", "First name", "Email"]
    names = sorted(row[1] for row in rows[1:])
    assert names == sorted(["สมชาย ใจดี", '\'=HYPERLINK("http://evil")'])


def test_the_customer_export_follows_a_segment_filter(manager_client):
    a, _b = CustomerFactory(external_id="A"), CustomerFactory(external_id="B")
    segment = SegmentFactory(slug="list", kind=Segment.Kind.STATIC)
    segment.members.add(a)
    rows = read_csv(streamed(manager_client.get("/reports/customers.csv?segment=list")))
    assert [row[0] for row in rows[1:]] == ["A"]


def test_an_invalid_customer_filter_is_refused_with_the_reason(manager_client):
    response = manager_client.get("/reports/customers.csv?lifecycle_stage=bogus")
    assert response.status_code == 400
    assert "lifecycle_stage" in response.content.decode()


def test_agents_cannot_export_customers(agent_client):
    assert agent_client.get("/reports/customers.csv").status_code == 403


def test_the_customer_export_is_not_limited_to_a_page(manager_client):
    for i in range(60):
        CustomerFactory(external_id=f"X{i:03d}")
    rows = read_csv(streamed(manager_client.get("/reports/customers.csv")))
    assert len(rows) == 61


def test_a_month_range_in_the_export_name(manager_client, vip):
    month = this_month()
    first = add_months(month, -2)
    response = manager_client.get(f"/reports/segments/vip/export/nps.csv?{period_query(first, month)}")
    assert f"vip-{first:%Y-%m}-{month:%Y-%m}-nps-" in response["Content-Disposition"]
    assert len(read_csv(response.content)) == 1 + 3


def test_format_csv_without_a_table_exports_the_key_figures(manager_client, vip):
    response = manager_client.get("/reports/segments/vip/?format=csv")
    assert "-kpis-" in response["Content-Disposition"]
    assert read_csv(response.content)[0][0] == "Metric"
