"""Existing customers whose stage and churn date disagree: churned_at is the truth.

A churn date with another stage becomes stage "churned". Stage "churned" without a date keeps the stage
(staff marked the customer as lost) and gets the best date known: the day of the row's last change, in
settings.TIME_ZONE, never before the acquisition.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from zoneinfo import ZoneInfo


def forwards(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Customer.objects.filter(churned_at__isnull=False).exclude(lifecycle_stage="churned").update(
        lifecycle_stage="churned"
    )
    zone = ZoneInfo(settings.TIME_ZONE)
    undated = Customer.objects.filter(lifecycle_stage="churned", churned_at__isnull=True)
    for customer in undated.only("id", "acquired_at", "updated_at").iterator(chunk_size=2000):
        day = timezone.localtime(customer.updated_at, zone).date() if customer.updated_at else customer.acquired_at
        Customer.objects.filter(pk=customer.pk).update(churned_at=max(day, customer.acquired_at))


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_search_external_id")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
