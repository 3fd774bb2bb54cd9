"""Staff notifications: created in the write's transaction, emailed after commit unless muted.

A notification with a `key` happens at most once (the unique key is the guard, so two beat runs
or a retried task cannot notify twice).
"""

import re
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone

from customers.roles import Role, has_role
from support.models import EmailMute, Notification

MENTION = re.compile(r"(?<![\w.@])@([\w.+-]+)")


def notify(
    *,
    recipient: Any,
    kind: str,
    message: str,
    url: str = "",
    target: Model | None = None,
    key: str | None = None,
) -> Notification | None:
    """Tell `recipient`; None when a notification with this `key` already exists.

    Side effects: enqueues the email (support.tasks.send_notification_email) after commit unless the
    recipient muted email for this kind or has no email address.
    """
    notification = Notification(recipient=recipient, kind=kind, message=message[:300], url=url, key=key)
    if target is not None:
        notification.target = target
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        if key and Notification.objects.filter(key=key).exists():
            return None
        raise
    if recipient.email and not EmailMute.objects.filter(user=recipient, kind=kind).exists():
        from support.tasks import send_notification_email

        transaction.on_commit(lambda: send_notification_email.delay(notification.pk))
    return notification


def mentioned_users(body: str, *, exclude: Any = None) -> list[Any]:
    """Active staff users with a role named as `@username` in `body` (unknown names are ignored)."""
    names = {name.rstrip(".") for name in MENTION.findall(body)}
    if not names:
        return []
    users = get_user_model().objects.filter(username__in=names, is_active=True).prefetch_related("groups")
    return [u for u in users if has_role(u, Role.AGENT) and (exclude is None or u.pk != exclude.pk)]


def notifications_mark_read(*, user: Any, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications read (only `ids` when given); how many changed."""
    queryset: QuerySet[Notification] = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    return queryset.update(read_at=timezone.now())


def email_mutes_set(*, user: Any, muted_kinds: set[str]) -> None:
    """Replace the user's muted kinds. Unknown kinds raise ValueError and change nothing."""
    unknown = muted_kinds - set(Notification.Kind.values)
    if unknown:
        raise ValueError(f"Unknown notification kinds: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        EmailMute.objects.filter(user=user).exclude(kind__in=muted_kinds).delete()
        EmailMute.objects.bulk_create(
            [EmailMute(user=user, kind=kind) for kind in sorted(muted_kinds)], ignore_conflicts=True
        )
