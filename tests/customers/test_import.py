from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from customers.imports import COLUMNS, ImportFileError, customers_import
from customers.models import Customer
from metrics.models import CustomerMetrics, StaleCustomer
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db
URL = reverse("customers:import")

HEADER = ",".join(COLUMNS)
GOOD_1 = (
    "C-1,Somchai Jaidee,Somchai,somchai@example.com,+66811111111,Siam Co,th,Bangkok,th,active,pro,"
    "vip;reseller,2024-01-15,"
)
GOOD_2 = "C-2,Mei Lin,Mei,mei@example.tw,,,TW,Taipei,zh-hant,Lead,Free,,2025-03-01,"
BAD_EMAIL = "C-3,Bad Email,,not-an-email,,,TH,,en,active,free,,2025-01-01,"
BAD_DATES = "C-4,Bad Dates,,,,,XX1,,en,active,free,,2025-05-01,2025-04-01"


def csv_bytes(*lines: str, bom: bool = False) -> bytes:
    data = "\r\n".join(lines).encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def upload(client, raw: bytes, name: str = "customers.csv", **options):
    """Post the file, let the import job run (eagerly, after commit) and open its page."""
    data = {"file": SimpleUploadedFile(name, raw, content_type="text/csv"), **options}
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(URL, data)
    if response.status_code == 302:
        assert response.url.startswith(URL)
        response = client.get(response.url)
    return response


def test_a_clean_file_imports_every_row_with_tags_and_history(agent_client, agent):
    response = upload(agent_client, csv_bytes(HEADER, GOOD_1, GOOD_2, bom=True))
    assert response.status_code == 200
    assert response.context["result"].imported
    somchai = Customer.objects.get(external_id="C-1")
    assert somchai.country == "TH" and somchai.plan == "pro" and somchai.acquired_at == date(2024, 1, 15)
    assert sorted(somchai.tags.values_list("name", flat=True)) == ["reseller", "vip"]
    mei = Customer.objects.get(external_id="C-2")
    assert (mei.language, mei.lifecycle_stage, mei.plan) == ("zh-hant", "lead", "free")
    record = somchai.history.get()
    assert record.history_user == agent and record.history_change_reason == "CSV import"
    # Marked stale in the import's transaction, then recomputed by the task enqueued after commit.
    assert set(CustomerMetrics.objects.values_list("customer_id", flat=True)) == {somchai.pk, mei.pk}
    assert not StaleCustomer.objects.exists()


def test_a_file_with_a_bad_row_imports_nothing_and_reports_every_problem(agent_client):
    response = upload(agent_client, csv_bytes(HEADER, GOOD_1, BAD_EMAIL, GOOD_2, BAD_DATES))
    assert response.status_code == 200
    assert not Customer.objects.exists()
    result = response.context["result"]
    assert not result.imported
    problems = [(e.row, e.column) for e in result.errors]
    assert problems == [(3, "email"), (5, "country"), (5, "churned_at")]
    content = response.content.decode()
    assert "Nothing was imported" in content
    assert "Enter a valid email address." in content


def test_the_valid_rows_only_option_imports_the_good_rows_and_reports_the_bad(agent_client):
    response = upload(agent_client, csv_bytes(HEADER, GOOD_1, BAD_EMAIL, GOOD_2), valid_rows_only="on")
    assert response.status_code == 200
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"C-1", "C-2"}
    result = response.context["result"]
    assert result.imported and result.created == 2
    assert [(e.row, e.column) for e in result.errors] == [(3, "email")]
    assert "1 with problems (skipped)" in response.content.decode()


def test_duplicate_external_ids_in_the_file_are_reported_with_the_first_row():
    result = customers_import(raw=csv_bytes("external_id,name", "A,One", "B,Two", "A,Again"))
    assert not result.imported
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (4, "external_id", "“A” is already used in row 2.")
    ]


def test_an_external_id_already_in_the_database_is_an_error_unless_updating_is_asked_for():
    existing = CustomerFactory(external_id="C-1", name="Old", acquired_at=date(2020, 1, 1))
    existing.tags.add(*[])
    result = customers_import(raw=csv_bytes("external_id,name,tags", "C-1,New name,gold"))
    assert not result.imported
    assert "already exists" in result.errors[0].message

    result = customers_import(raw=csv_bytes("external_id,name,tags", "C-1,New name,gold"), update_existing=True)
    assert result.imported and (result.created, result.updated) == (0, 1)
    existing.refresh_from_db()
    assert existing.name == "New name"
    assert existing.acquired_at == date(2020, 1, 1)  # not in the file: unchanged
    assert list(existing.tags.values_list("name", flat=True)) == ["gold"]
    assert existing.history.first().history_change_reason == "CSV import"


def test_an_update_cannot_churn_a_customer_before_the_stored_acquisition():
    CustomerFactory(external_id="C-1", acquired_at=date(2024, 6, 1))
    result = customers_import(raw=csv_bytes("external_id,name,churned_at", "C-1,X,2024-01-01"), update_existing=True)
    assert not result.imported
    assert result.errors[0].column == "churned_at"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("Name,Email\nA,a@example.com".encode("utf-16"), "not a CSV file"),
        ("external_id,name\nC-1,Müller".encode("latin-1"), "not UTF-8"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00binaryxlsx", "not a CSV file"),
        (b"name,email\nA,a@example.com", "missing the required column(s): external_id"),
        (b"external_id,name,favourite_colour\nC-1,A,blue", "Unknown column(s) in the header: favourite_colour"),
        (b"external_id,name\n", "no customer rows"),
        (b"\n\n", "The file is empty"),
    ],
)
def test_unreadable_files_get_a_clear_message(agent_client, raw, message):
    response = upload(agent_client, raw)
    assert response.status_code == 200
    assert message in response.context["file_error"]
    assert not Customer.objects.exists()


def test_a_row_with_the_wrong_number_of_values_is_reported():
    result = customers_import(raw=csv_bytes("external_id,name", "C-1,A,extra"))
    assert result.errors[0].row == 2 and "2 columns" in result.errors[0].message


def test_a_huge_file_is_refused_before_reading_it(agent_client):
    raw = csv_bytes(HEADER) + b"\n" + (GOOD_1.encode() + b"\n") * 230_000
    assert len(raw) > 20 * 1024 * 1024
    response = upload(agent_client, raw)
    assert response.status_code == 200
    assert "the limit is 20 MB" in " ".join(response.context["form"].errors["file"])
    assert not Customer.objects.exists()


def test_an_empty_upload_is_refused(agent_client):
    response = upload(agent_client, b"")
    assert response.context["form"].errors["file"]


def test_the_import_uses_a_bounded_number_of_queries(django_assert_max_num_queries):
    lines = [f"C-{i},Customer {i},,c{i}@example.com,,,TH,,en,active,free,vip;gold,2024-01-01," for i in range(300)]
    from django.db import connection

    # SQLite splits bulk inserts into more batches (its limit on query parameters).
    with django_assert_max_num_queries(20 if connection.vendor == "postgresql" else 40):
        result = customers_import(raw=csv_bytes(HEADER, *lines))
    assert result.created == 300
    assert Customer.objects.filter(tags__name="gold").count() == 300


def test_the_import_page_explains_the_format(agent_client):
    content = agent_client.get(URL).content.decode()
    assert "external_id" in content and "Import the valid rows only" in content


def test_import_file_error_is_raised_for_binary_content():
    with pytest.raises(ImportFileError):
        customers_import(raw=b"\x00\x01\x02")
