"""Managers create segments from a customer filter, edit them, keep static member lists, delete them."""

import pytest

from customers.models import Segment
from tests.customers.factories import CustomerFactory, SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    return [
        CustomerFactory(external_id="TH1", country="TH", name="สมชาย ใจดี"),
        CustomerFactory(external_id="TH2", country="TH", lifecycle_stage="at_risk"),
        CustomerFactory(external_id="MY1", country="MY"),
    ]


def test_the_new_segment_page_previews_how_many_customers_the_filter_matches(manager_client, customers):
    response = manager_client.get("/reports/segments/new/?country=TH&page=3")
    assert response.status_code == 200
    assert response.context["preview_count"] == 2
    assert response.context["params"] == {"country": "TH"}
    assert "<strong>2</strong> customers match" in response.content.decode()


def test_saving_a_dynamic_segment_stores_the_filter(manager_client, manager, customers):
    response = manager_client.post(
        "/reports/segments/new/?country=TH",
        {"name": "Thailand", "description": "", "kind": "dynamic", "country": "TH"},
    )
    segment = Segment.objects.get(name="Thailand")
    assert response.status_code == 302 and response["Location"] == "/reports/segments/thailand/"
    assert (segment.kind, segment.filter_params, segment.created_by) == ("dynamic", {"country": "TH"}, manager)


def test_a_static_segment_takes_the_customers_matching_now(manager_client, customers):
    manager_client.post("/reports/segments/new/", {"name": "TH list", "kind": "static", "country": "TH"})
    segment = Segment.objects.get(name="TH list")
    assert sorted(segment.members.values_list("external_id", flat=True)) == ["TH1", "TH2"]
    assert segment.filter_params == {}


def test_a_thai_name_gets_a_usable_unique_slug(manager_client):
    SegmentFactory(name="Other", slug="segment")
    manager_client.post("/reports/segments/new/", {"name": "ลูกค้าประจำ", "kind": "dynamic"})
    assert Segment.objects.get(name="ลูกค้าประจำ").slug == "segment-2"


def test_a_duplicate_name_is_refused_with_a_message(manager_client):
    SegmentFactory(name="VIP")
    response = manager_client.post("/reports/segments/new/", {"name": "VIP", "kind": "dynamic"})
    assert response.status_code == 200
    assert "Segment with this Name already exists." in response.content.decode()


def test_an_invalid_filter_is_refused_with_its_message(manager_client):
    response = manager_client.post("/reports/segments/new/", {"name": "Bad", "kind": "dynamic", "language": "xx"})
    assert response.status_code == 200
    assert not Segment.objects.filter(name="Bad").exists()
    assert "Select a valid choice" in response.content.decode()


def test_a_dynamic_segment_cannot_be_built_on_another_segment(manager_client):
    SegmentFactory(slug="vip")
    response = manager_client.post("/reports/segments/new/", {"name": "Nested", "kind": "dynamic", "segment": "vip"})
    assert not Segment.objects.filter(name="Nested").exists()
    assert "save it as a static list instead" in response.content.decode()


def test_editing_renames_and_replaces_the_filter_but_keeps_the_slug(manager_client, customers):
    segment = SegmentFactory(name="Old", slug="old", filter_params={"country": "TH"})
    page = manager_client.get("/reports/segments/old/edit/")
    assert page.context["preview_count"] == 2
    response = manager_client.post(
        "/reports/segments/old/edit/", {"name": "Malaysia", "description": "MY", "country": "MY"}
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.slug, segment.filter_params) == ("Malaysia", "old", {"country": "MY"})


def test_the_built_in_segment_cannot_be_edited_or_deleted(manager_client):
    assert manager_client.get("/reports/segments/all-customers/edit/").status_code == 403
    assert manager_client.post("/reports/segments/all-customers/edit/", {"name": "x"}).status_code == 403
    assert manager_client.post("/reports/segments/all-customers/delete/").status_code == 403
    assert Segment.objects.filter(slug="all-customers", name="All customers").exists()


def test_deleting_asks_first_then_removes_the_segment(manager_client):
    SegmentFactory(name="Gone", slug="gone")
    assert "Delete segment “Gone”?" in manager_client.get("/reports/segments/gone/delete/").content.decode()
    response = manager_client.post("/reports/segments/gone/delete/")
    assert response.status_code == 302 and response["Location"] == "/reports/segments/"
    assert not Segment.objects.filter(slug="gone").exists()


def test_agents_cannot_change_segments(agent_client):
    SegmentFactory(slug="vip")
    assert agent_client.post("/reports/segments/new/", {"name": "A", "kind": "dynamic"}).status_code == 403
    assert agent_client.post("/reports/segments/vip/delete/").status_code == 403
    assert Segment.objects.filter(slug="vip").exists()


@pytest.fixture
def static_segment():
    return SegmentFactory(name="Hand picked", slug="picked", kind=Segment.Kind.STATIC)


def test_members_are_added_by_external_id_and_unknown_ids_are_reported(manager_client, static_segment, customers):
    static_segment.members.add(customers[0])
    response = manager_client.post(
        "/reports/segments/picked/members/", {"action": "add", "external_ids": "TH1, MY1\nNOPE"}, follow=True
    )
    assert sorted(static_segment.members.values_list("external_id", flat=True)) == ["MY1", "TH1"]
    html = response.content.decode()
    assert "Added 1 customer; 1 already in the segment." in html
    assert "No customer has these external ids: NOPE" in html


def test_members_are_removed(manager_client, static_segment, customers):
    static_segment.members.add(*customers)
    manager_client.post(
        "/reports/segments/picked/members/", {"action": "remove", "customer": [customers[0].pk, customers[1].pk]}
    )
    assert list(static_segment.members.values_list("external_id", flat=True)) == ["MY1"]


def test_the_member_list_is_paginated_and_searchable(manager_client, static_segment, django_assert_num_queries):
    static_segment.members.add(*[CustomerFactory(name=f"Member {i:03d}") for i in range(60)])
    # session, user, role groups, segment, count, page.
    with django_assert_num_queries(6):
        response = manager_client.get("/reports/segments/picked/members/?page=2")
    assert len(response.context["page"].object_list) == 10
    response = manager_client.get("/reports/segments/picked/members/?q=Member 059")
    assert [c.name for c in response.context["page"]] == ["Member 059"]


def test_a_dynamic_segments_members_are_its_filtered_customer_list(manager_client):
    SegmentFactory(slug="dyn")
    response = manager_client.get("/reports/segments/dyn/members/")
    assert response.status_code == 302 and response["Location"] == "/customers/?segment=dyn"


def test_the_segment_list_shows_members_at_the_last_computation(manager_client):
    from django.utils import timezone

    from tests.metrics.test_reports import make_snapshot, this_month

    segment = SegmentFactory(name="VIP", slug="vip")
    make_snapshot(segment, this_month(), member_count=42, computed_at=timezone.now())
    html = manager_client.get("/reports/segments/").content.decode()
    assert '<a href="/customers/?segment=vip">42</a>' in html
    assert 'href="/reports/segments/vip/edit/"' in html
    assert 'href="/reports/segments/all-customers/edit/"' not in html


def test_updating_the_count_previews_without_saving(manager_client, customers):
    response = manager_client.post(
        "/reports/segments/new/", {"name": "Draft", "kind": "dynamic", "lifecycle_stage": "at_risk", "preview": "1"}
    )
    assert response.status_code == 200
    assert response.context["preview_count"] == 1
    assert not Segment.objects.filter(name="Draft").exists()
    assert 'value="Draft"' in response.content.decode()
