"""The CSV import as a Celery job: the upload is stored, a task checks and imports it, a page follows it.

`import_job_create` stores the file and the options and enqueues `customers.tasks.run_import_job` after
commit. `import_job_run` claims the job (pending or running → running, so a redelivered task after a
worker died resumes it), runs customers.imports.customers_import with progress saved every batch, and
records the report. When rows are imported, the report is saved in the import's own transaction, so a
rerun after a crash never imports a file twice; a job already finished returns at once.
"""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from customers.imports import ImportFileError, ImportResult, RowError, customers_import
from customers.models import CustomerImportJob

logger = logging.getLogger(__name__)


def import_job_create(
    *,
    raw: bytes,
    file_name: str,
    valid_rows_only: bool,
    update_existing: bool,
    created_by: AbstractBaseUser | None,
) -> CustomerImportJob:
    """Record an import and start it after commit."""
    with transaction.atomic():
        job = CustomerImportJob.objects.create(
            data=raw,
            file_name=file_name[:255],
            file_size=len(raw),
            valid_rows_only=valid_rows_only,
            update_existing=update_existing,
            created_by=created_by,
        )
        from customers.tasks import run_import_job

        transaction.on_commit(lambda: run_import_job.delay(job.pk))
    return job


def _finish(job_id: int, **fields: object) -> None:
    CustomerImportJob.objects.filter(pk=job_id).update(data=b"", finished_at=timezone.now(), **fields)


def import_job_run(*, job_id: int) -> CustomerImportJob | None:
    """Run (or resume) an import job. Returns None if it is finished or gone."""
    claimed = CustomerImportJob.objects.filter(
        pk=job_id, status__in=[CustomerImportJob.Status.PENDING, CustomerImportJob.Status.RUNNING]
    ).update(status=CustomerImportJob.Status.RUNNING, rows_checked=0)
    if not claimed:
        return None
    job = CustomerImportJob.objects.select_related("created_by").get(pk=job_id)

    def progress(rows: int) -> None:
        CustomerImportJob.objects.filter(pk=job_id).update(rows_checked=rows)

    def on_import(result: ImportResult) -> None:
        _finish(job_id, status=CustomerImportJob.Status.DONE, report=result.as_json(), rows_checked=result.rows)

    try:
        result = customers_import(
            raw=bytes(job.data),
            valid_rows_only=job.valid_rows_only,
            update_existing=job.update_existing,
            actor=job.created_by,
            progress=progress,
            on_import=on_import,
        )
    except ImportFileError as error:
        _finish(job_id, status=CustomerImportJob.Status.DONE, file_error=str(error))
    except Exception as exc:
        logger.exception("Import job %s failed", job_id)
        _finish(job_id, status=CustomerImportJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:1000])
        raise
    else:
        if not result.imported:
            _finish(job_id, status=CustomerImportJob.Status.DONE, report=result.as_json(), rows_checked=result.rows)
    job.refresh_from_db()
    return job


def job_result(job: CustomerImportJob) -> ImportResult | None:
    """The job's report as an ImportResult (for the page), or None before it is finished."""
    if not job.report:
        return None
    report = job.report
    result = ImportResult(
        rows=report["rows"],
        created=report["created"],
        updated=report["updated"],
        imported=report["imported"],
        error_count=report["error_count"],
        errors=[RowError(row, column, message) for row, column, message in report["errors"]],
    )
    result.bad_row_numbers = set(range(report["bad_rows"]))  # only the count is kept
    return result
