"""An answered invitation counts as sent: the answer proves the link reached the customer.

Before, an invitation made by the API (or an email whose send was not recorded) could be answered
while its sent_at stayed empty, so answers outnumbered invitations sent and a customer's response
rate exceeded 100 %. This sets sent_at on such rows (the first time the link was opened, else the
answer's time) and marks their customers stale so their figures are recomputed.
"""

from django.db import migrations
from django.db.models import Min, Q
from django.db.models.functions import Coalesce


def answered_invitations_count_as_sent(apps, schema_editor):
    Invitation = apps.get_model("surveys", "Invitation")
    StaleCustomer = apps.get_model("metrics", "StaleCustomer")
    unsent = Invitation.objects.filter(sent_at__isnull=True).filter(
        Q(answered_at__isnull=False) | Q(response__isnull=False)
    )
    customer_ids = set(unsent.values_list("customer_id", flat=True))
    if not customer_ids:
        return
    answered = Coalesce("answered_at", Min("response__submitted_at"))
    for invitation in unsent.annotate(answered=answered).iterator():
        moment = invitation.answered
        if invitation.opened_at is not None and (moment is None or invitation.opened_at < moment):
            moment = invitation.opened_at
        fields = {"sent_at": moment}
        if invitation.answered_at is None:
            fields["answered_at"] = invitation.answered
        Invitation.objects.filter(pk=invitation.pk).update(**fields)
    from django.utils import timezone

    now = timezone.now()
    StaleCustomer.objects.bulk_create(
        [StaleCustomer(customer_id=i, marked_at=now) for i in sorted(customer_ids)], ignore_conflicts=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("surveys", "0002_send_jobs_reminder_links_revisions"),
        ("metrics", "0005_segment_parts"),
    ]

    operations = [migrations.RunPython(answered_invitations_count_as_sent, migrations.RunPython.noop)]
