"""Celery entry points of the surveys app: thin, idempotent, taking ids."""

from celery import shared_task


@shared_task(acks_late=True)
def send_invitation_email(invitation_id: int, token: str) -> bool:
    from surveys.services import invitation_email_send

    return invitation_email_send(invitation_id=invitation_id, token=token)


@shared_task(acks_late=True)
def run_send_job(job_id: int) -> None:
    from surveys.services import send_job_run

    send_job_run(job_id=job_id)


@shared_task
def send_due_reminders() -> int:
    from surveys.services import reminders_send_due

    return reminders_send_due()
