"""Celery entry points of the customers app: thin, idempotent, taking ids."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_job(job_id: int) -> None:
    """A CSV import (customers.import_jobs); a redelivery resumes an unfinished job, never repeats a finished one."""
    from customers.import_jobs import import_job_run

    import_job_run(job_id=job_id)
