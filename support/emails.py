"""Notification emails to staff."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from support.models import Notification


def notification_email_send(*, notification_id: int) -> bool:
    """Email a notification once (emailed_at records it); False when gone or already emailed."""
    notification = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if notification is None or notification.emailed_at is not None or not notification.recipient.email:
        return False
    site = settings.SITE_URL.rstrip("/")
    link = f"{site}{notification.url}"
    EmailMessage(
        subject=f"[Rapport] {notification.message}"[:200],
        body=f"{notification.message}\n\n{link}\n\nMute these emails per kind on {site}/support/notifications/\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient.email],
    ).send(fail_silently=False)
    Notification.objects.filter(pk=notification_id).update(emailed_at=timezone.now())
    return True
