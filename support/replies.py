"""What happens to a reply once saved: an emailed reply to the customer, or the mentions of a note.

A reply on an email interaction gets its Message-ID when saved (so a retried send reuses it) and
threads under the customer's message and the earlier emailed replies (In-Reply-To, References).
It is sent from SUPPORT_FROM_EMAIL (default DEFAULT_FROM_EMAIL) in the customer's language by
support.tasks.send_reply_email, which retries and marks the reply sent or failed.
"""

from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Interaction, InteractionReply
from support.models import Notification
from support.notifications import mentioned_users, notify


def support_from_email() -> str:
    return getattr(settings, "SUPPORT_FROM_EMAIL", "") or settings.DEFAULT_FROM_EMAIL


def is_emailed(interaction: Interaction) -> bool:
    """Whether a reply to the customer on this interaction is sent (else it is recorded only)."""
    return interaction.channel == Interaction.Channel.EMAIL


def after_reply_saved(*, reply: InteractionReply, interaction: Interaction, author: Any) -> None:
    """Called by customers.services.interaction_reply inside its transaction."""
    if reply.visibility == InteractionReply.Visibility.NOTE:
        for user in mentioned_users(reply.body, exclude=author):
            notify(
                recipient=user,
                kind=Notification.Kind.MENTION,
                message=f"{author.get_full_name() or author.get_username()} mentioned you on “{interaction.subject}”.",
                url=reverse("customers:interaction", args=[interaction.pk]),
                target=interaction,
            )
        return
    if not is_emailed(interaction):
        return
    if not interaction.customer.email:
        reply.delivery = InteractionReply.Delivery.FAILED
        reply.delivery_error = "The customer has no email address."
        reply.save(update_fields=["delivery", "delivery_error"])
        return
    domain = parseaddr(support_from_email())[1].rpartition("@")[2] or None
    reply.message_id = make_msgid(domain=domain)
    reply.delivery = InteractionReply.Delivery.PENDING
    reply.save(update_fields=["message_id", "delivery"])
    from support.tasks import send_reply_email

    transaction.on_commit(lambda: send_reply_email.delay(reply.pk))


def _thread(reply: InteractionReply) -> list[str]:
    """Message-IDs this reply answers: the customer's message, then the earlier emailed replies."""
    earlier = (
        InteractionReply.objects.filter(interaction_id=reply.interaction_id, created_at__lte=reply.created_at)
        .exclude(pk=reply.pk)
        .exclude(message_id="")
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
    )
    first = [reply.interaction.email_message_id] if reply.interaction.email_message_id else []
    return first + list(earlier)


def reply_email(reply: InteractionReply) -> EmailMessage:
    interaction = reply.interaction
    customer = interaction.customer
    with translation.override(customer.language):
        context = {"reply": reply, "interaction": interaction, "customer": customer}
        body = render_to_string("support/email/reply.txt", context)
        subject = render_to_string("support/email/reply_subject.txt", context).strip()
    headers = {"Message-ID": reply.message_id}
    thread = _thread(reply)
    if thread:
        headers["In-Reply-To"] = thread[-1]
        headers["References"] = " ".join(thread)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=support_from_email(),
        to=[customer.email],
        headers=headers,
    )


def reply_email_send(*, reply_id: int) -> bool:
    """Send an emailed reply (exceptions propagate, for the task to retry). True once sent; a reply
    already sent, gone, or not pending is not sent again."""
    reply = InteractionReply.objects.select_related("interaction__customer").filter(pk=reply_id).first()
    if reply is None or reply.delivery != InteractionReply.Delivery.PENDING:
        return reply is not None and reply.delivery == InteractionReply.Delivery.SENT
    reply_email(reply).send(fail_silently=False)
    InteractionReply.objects.filter(pk=reply_id).update(
        delivery=InteractionReply.Delivery.SENT, sent_at=timezone.now(), delivery_error=""
    )
    return True


def reply_email_failed(*, reply_id: int, error: str) -> None:
    InteractionReply.objects.filter(pk=reply_id, delivery=InteractionReply.Delivery.PENDING).update(
        delivery=InteractionReply.Delivery.FAILED, delivery_error=error[:500]
    )
