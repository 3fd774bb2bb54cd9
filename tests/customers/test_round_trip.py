"""A customer CSV exported by Rapport imports back unchanged; phones in E.164; one tag separator; other
tools' contact exports map onto our columns."""

from datetime import date

import pytest

from customers import services
from customers.imports import customers_import
from customers.models import Customer
from tests.customers.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def export(client) -> bytes:
    response = client.get("/reports/customers.csv")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_an_export_imports_back_and_exports_the_same_bytes(manager_client, manager):
    somchai = CustomerFactory(
        name="Somchai Jaidee", first_name="Somchai", phone="+66812345678", country="TH", plan="pro"
    )
    somchai.tags.add(TagFactory(name="vip"), TagFactory(name="reseller"))
    CustomerFactory(
        name="=HYPERLINK(1)",
        first_name="",
        phone="",
        country="TW",
        acquired_at=date(2024, 1, 1),
        churned_at=date(2025, 6, 30),
        lifecycle_stage="churned",
        company="Lin, Chen & Co",
    )
    first = export(manager_client)
    assert b"reseller; vip" in first and b"'+66812345678" in first

    result = customers_import(raw=first, update_existing=True, actor=manager)
    assert result.imported and not result.errors, result.errors
    assert (result.created, result.updated) == (0, 2)
    somchai.refresh_from_db()
    assert somchai.phone == "+66812345678"
    assert sorted(somchai.tags.values_list("name", flat=True)) == ["reseller", "vip"]
    assert export(manager_client) == first


def test_the_import_reads_tags_separated_by_semicolons_or_commas(manager):
    raw = b'external_id,name,tags\r\nA-1,Aisyah,"vip, gold"\r\nA-2,Mei,vip;reseller\r\n'
    assert customers_import(raw=raw, actor=manager).imported
    assert sorted(Customer.objects.get(external_id="A-1").tags.values_list("name", flat=True)) == ["gold", "vip"]
    assert sorted(Customer.objects.get(external_id="A-2").tags.values_list("name", flat=True)) == ["reseller", "vip"]


def test_imported_phones_are_stored_in_e164_using_the_rows_country(manager):
    raw = "external_id,name,country,phone\r\nP-1,Somchai,TH,081 234 5678\r\nP-2,Mei,TW,'+886 912 345 678\r\n"
    assert customers_import(raw=raw.encode(), actor=manager).imported
    assert Customer.objects.get(external_id="P-1").phone == "+66812345678"
    assert Customer.objects.get(external_id="P-2").phone == "+886912345678"


def test_an_invalid_phone_is_a_row_error_and_imports_nothing(manager):
    raw = b"external_id,name,country,phone\r\nP-1,Somchai,TH,12345\r\n"
    result = customers_import(raw=raw, actor=manager)
    assert not result.imported
    assert [(e.row, e.column) for e in result.errors] == [(2, "phone")]
    assert not Customer.objects.exists()


def test_the_services_store_phones_in_e164_and_refuse_invalid_ones(agent):
    customer = services.customer_create(actor=agent, external_id="S-1", name="Mei", country="HK", phone="9123 4567")
    assert customer.phone == "+85291234567"
    with pytest.raises(Exception, match="not a valid phone number"):
        services.customer_update(customer=customer, actor=agent, phone="123")
    customer.refresh_from_db()
    assert customer.phone == "+85291234567"


def test_a_hubspot_contacts_export_imports_with_its_own_header(manager):
    raw = (
        b"Record ID,First Name,Last Name,Email,Phone Number,Company Name,Country/Region,City,"
        b"Lifecycle Stage,Create Date,Contact owner\r\n"
        b"51,Somchai,Jaidee,somchai@example.com,081 234 5678,Siam Co,Thailand,Bangkok,"
        b"Marketing Qualified Lead,2024-01-15 10:22,Jane\r\n"
        b"52,Nurul,Aisyah,nurul@example.my,+60 12-345 6789,,Malaysia,Penang,Customer,2023-11-02 08:00,\r\n"
    )
    result = customers_import(raw=raw, actor=manager)
    assert result.imported, result.errors
    somchai = Customer.objects.get(external_id="51")
    assert (somchai.name, somchai.first_name, somchai.country, somchai.phone) == (
        "Somchai Jaidee",
        "Somchai",
        "TH",
        "+66812345678",
    )
    assert (somchai.lifecycle_stage, somchai.acquired_at) == ("lead", date(2024, 1, 15))
    nurul = Customer.objects.get(external_id="52")
    assert (nurul.country, nurul.lifecycle_stage, nurul.phone) == ("MY", "active", "+60123456789")


def test_a_chatwoot_contacts_export_imports_with_its_own_header(manager):
    raw = (
        b"id,name,email,phone_number,identifier,company_name,city,country_code,created_at\r\n"
        b"9,Mei Lin,mei@example.tw,+886912345678,u-9,Lin Co,Taipei,TW,2025-03-01T09:00:00Z\r\n"
    )
    result = customers_import(raw=raw, actor=manager)
    assert result.imported, result.errors
    mei = Customer.objects.get(external_id="9")
    assert (mei.name, mei.company, mei.country, mei.acquired_at) == ("Mei Lin", "Lin Co", "TW", date(2025, 3, 1))


def test_an_unknown_column_of_our_own_format_is_still_refused(manager):
    from customers.imports import ImportFileError

    with pytest.raises(ImportFileError, match="Unknown column"):
        customers_import(raw=b"external_id,name,nickname\r\nA,B,C\r\n", actor=manager)
