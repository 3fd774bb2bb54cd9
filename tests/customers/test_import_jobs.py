"""The CSV import as a Celery job: the page follows it, a rerun never imports twice, 100,000 rows work."""

import resource
import time
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from customers import imports
from customers.import_jobs import import_job_run
from customers.models import Customer, CustomerImportJob
from metrics.models import StaleCustomer

pytestmark = pytest.mark.django_db
URL = reverse("customers:import")


def rows(count: int, start: int = 0) -> bytes:
    lines = ["external_id,name,country"] + [f"X-{i},Customer {i},TH" for i in range(start, start + count)]
    return "\n".join(lines).encode()


def post(client, raw: bytes, *, run: bool = True, **options):
    data = {"file": SimpleUploadedFile("big.csv", raw, content_type="text/csv"), **options}
    if not run:
        with mock.patch("customers.tasks.run_import_job.delay"):
            return client.post(URL, data)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, data)


def test_the_upload_answers_at_once_with_a_progress_page_that_refreshes_until_done(agent_client):
    response = post(agent_client, rows(3), run=False)
    job = CustomerImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("customers:import_job", args=[job.pk])
    page = agent_client.get(response.url).content.decode()
    assert "Waiting to start" in page and 'http-equiv="refresh"' in page
    assert not Customer.objects.exists()

    import_job_run(job_id=job.pk)
    page = agent_client.get(response.url).content.decode()
    assert "Imported 3 new" in page and 'http-equiv="refresh"' not in page
    job.refresh_from_db()
    assert (job.status, job.rows_checked, bytes(job.data)) == ("done", 3, b"")  # the file is not kept


def test_a_redelivered_job_never_imports_twice(agent_client):
    post(agent_client, rows(3), run=False)
    job = CustomerImportJob.objects.get()
    import_job_run(job_id=job.pk)
    assert import_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.report["created"] == 3 and not job.report["error_count"]


def test_a_job_that_crashes_is_failed_and_imports_nothing(agent_client):
    post(agent_client, rows(3), run=False)
    job = CustomerImportJob.objects.get()
    with (
        mock.patch("customers.imports._add_tags", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "disk full" in job.error
    assert not Customer.objects.exists()
    assert "The import stopped" in agent_client.get(reverse("customers:import_job", args=[job.pk])).content.decode()


def test_other_staff_roles_see_the_job_and_outsiders_do_not(agent_client, outsider_client):
    post(agent_client, rows(1), run=False)
    url = reverse("customers:import_job", args=[CustomerImportJob.objects.get().pk])
    assert outsider_client.get(url).status_code in (302, 403)


def test_the_check_streams_the_file_in_batches_with_progress():
    seen: list[int] = []
    result = imports.customers_import(raw=rows(2500), progress=seen.append)
    assert seen == [1000, 2000, 2500]
    assert result.created == 2500


def test_a_file_of_100000_rows_imports_through_the_page_with_bounded_memory(agent_client):
    raw = rows(100_000)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    started = time.monotonic()
    # The metrics of the new customers are the workers' business (their stale marks are checked below).
    with mock.patch("metrics.tasks.recompute_customers.delay"):
        response = post(agent_client, raw)
    elapsed = time.monotonic() - started
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024
    job = CustomerImportJob.objects.get()
    assert response.status_code == 302
    assert (job.status, job.report["created"], job.rows_checked) == ("done", 100_000, 100_000), job.error
    assert Customer.objects.count() == 100_000
    assert StaleCustomer.objects.count() == 100_000
    # Only a batch of rows is held at a time, on top of the file (≈ 2.5 MB here): the process's peak
    # grows by far less than the rows would take as dicts and model objects (several hundred MB).
    assert growth < 200 * 1024 * 1024, f"peak grew by {growth / 2**20:.0f} MiB"
    assert elapsed < 300, f"{elapsed:.0f} s"


def test_a_100000_row_file_with_one_bad_row_imports_nothing_and_reports_it(agent_client):
    raw = rows(99_999) + b"\nX-1,Duplicate,TH"
    post(agent_client, raw)
    job = CustomerImportJob.objects.get()
    assert job.report["imported"] is False and job.report["errors"] == [
        [100_001, "external_id", "“X-1” is already used in row 3."]
    ]
    assert not Customer.objects.exists()
