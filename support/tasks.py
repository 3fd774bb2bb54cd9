"""Celery entry points of the support app: thin, idempotent, taking ids."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)

EMAIL_RETRIES = 4


@shared_task(bind=True, acks_late=True, max_retries=EMAIL_RETRIES)
def send_reply_email(self, reply_id: int) -> bool:
    """Email a reply to the customer; retried with growing delays, then marked failed."""
    from support.replies import reply_email_failed, reply_email_send

    try:
        return reply_email_send(reply_id=reply_id)
    except Exception as error:  # any SMTP or connection error is retried, then recorded
        if self.request.retries >= self.max_retries:
            logger.warning("Reply %s could not be emailed: %s", reply_id, error)
            reply_email_failed(reply_id=reply_id, error=f"{type(error).__name__}: {error}")
            return False
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task(bind=True, acks_late=True, max_retries=EMAIL_RETRIES)
def send_notification_email(self, notification_id: int) -> bool:
    from support.emails import notification_email_send

    try:
        return notification_email_send(notification_id=notification_id)
    except Exception as error:  # retried; the notification stays under the bell regardless
        if self.request.retries >= self.max_retries:
            logger.warning("Notification %s could not be emailed: %s", notification_id, error)
            return False
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error


@shared_task
def warn_sla_breaches() -> int:
    """Beat task: notify assignees of interactions whose SLA is about to be breached (once each)."""
    from support.services import sla_warnings_send

    return sla_warnings_send()
