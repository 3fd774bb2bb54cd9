"""A manager opens a segment report in Chromium: the charts draw from local files and the CSV downloads."""

from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from core.calendar import add_months
from customers.models import Segment
from customers.roles import Role
from metrics.models import CohortCell
from tests.conftest import browser_login
from tests.customers.factories import SegmentFactory
from tests.metrics.test_reports import WORKED, make_snapshot, this_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHARTS = ["nps", "csat", "ces", "retention", "revenue", "nps-distribution"]

# Non-transparent pixels on the canvas: something was drawn.
PAINTED = """(canvas) => {
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) painted++; }
  return {width: canvas.width, height: canvas.height, painted: painted};
}"""


@pytest.fixture
def report_data(transactional_db):
    # Transactional tests flush the tables the migrations seeded; put back what this test needs.
    for role in Role:
        Group.objects.get_or_create(name=role.group_name)
    everyone, _ = Segment.objects.get_or_create(
        slug="all-customers", defaults={"name": "All customers", "is_builtin": True}
    )
    vip = SegmentFactory(name="VIP ลูกค้าประจำ", slug="vip")
    for i in range(13):
        month = add_months(this_month(), -i)
        # Each month starts with the customers the one before ended with.
        counts = {
            **WORKED,
            "customers_start": 10_000,
            "customers_new": 400,
            "customers_end": 10_000,
            "customers_lost": 400 + i * 10,
            "promoters": 300 - i * 10,
            "detractors": 100 + i * 5,
            "revenue": Decimal(1000 + i * 90),
        }
        make_snapshot(vip, month, **counts)
        make_snapshot(everyone, month, **{**counts, "customers_lost": 400})
        for since in range(i + 1):
            CohortCell.objects.create(
                segment=vip,
                cohort_month=month,
                months_since=since,
                cohort_size=100,
                active=100 - since * 6,
                computed_at=timezone.now(),
            )
    return vip


def test_a_manager_sees_the_charts_and_downloads_a_csv(page, live_server, make_user, report_data, artifacts_dir):
    make_user("manager", Role.MANAGER)
    foreign = []
    host = urlparse(live_server.url).netloc
    page.on("request", lambda r: foreign.append(r.url) if urlparse(r.url).netloc not in (host, "") else None)
    browser_login(page, live_server, "manager")
    page.goto(f"{live_server.url}/reports/segments/vip/")
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Segment: VIP ลูกค้าประจำ").is_visible()

    for chart in CHARTS:
        canvas = page.locator(f"canvas#chart-{chart}")
        canvas.wait_for(state="visible")
        drawn = canvas.evaluate(PAINTED)
        assert drawn["width"] > 100 and drawn["height"] > 100, chart
        assert drawn["painted"] > 500, f"{chart} chart is blank"
        assert len(canvas.evaluate("c => c.toDataURL()")) > 2000, chart
    assert foreign == [], "the page must work offline: no requests to other hosts"

    page.screenshot(path=str(artifacts_dir / "reports-segment.png"), full_page=True)

    card = page.locator("#chart-card-nps")
    card.locator("summary", has_text="Data table").click()
    with page.expect_download() as info:
        card.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert download.suggested_filename.startswith("vip-") and download.suggested_filename.endswith(".csv")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "Month,NPS,Margin of error (±),Answers"
    assert lines[-2].startswith(f"{this_month():%Y-%m},40.0,7.0,500")

    page.emulate_media(media="print")
    page.screenshot(path=str(artifacts_dir / "reports-segment-print.png"), full_page=True)
    assert not page.locator("header.topbar").is_visible()


def test_the_comparison_chart_draws_two_segments(page, live_server, make_user, report_data, artifacts_dir):
    make_user("manager", Role.MANAGER)
    other = SegmentFactory(name="Malaysia", slug="my")
    make_snapshot(other, this_month(), promoters=50, passives=20, detractors=30, customers_start=100, customers_end=90)
    browser_login(page, live_server, "manager")
    page.goto(f"{live_server.url}/reports/segments/")
    page.get_by_label("Compare VIP ลูกค้าประจำ").check()
    page.get_by_label("Compare Malaysia").check()
    page.get_by_role("button", name="Compare the ticked segments").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Compare segments").is_visible()
    for chart in ["comparison", "comparison-nps"]:
        drawn = page.locator(f"canvas#chart-{chart}").evaluate(PAINTED)
        assert drawn["painted"] > 500, f"{chart} chart is blank"
    page.screenshot(path=str(artifacts_dir / "reports-compare.png"), full_page=True)


def test_the_segment_list_fits_a_phone(phone_page, live_server, make_user, report_data):
    make_user("boss", role=Role.MANAGER)
    browser_login(phone_page, live_server, "boss")
    phone_page.goto(f"{live_server.url}/reports/segments/")
    phone_page.get_by_role("link", name="VIP ลูกค้าประจำ").first.wait_for()
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
