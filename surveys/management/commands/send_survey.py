from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from customers.models import Customer
from surveys.models import Invitation, Survey
from surveys.rules import SkipReason
from surveys.services import SEND_BATCH_SIZE, invitations_send_batch
from surveys.tokens import invitation_url


class Command(BaseCommand):
    help = (
        "Invite one customer or every customer to a survey, with the same rules as the staff pages "
        "(consent, recontact rule, cooldown). Emails by default; --channel link only makes links."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--survey", required=True, help="The survey's slug.")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--customer", type=int, help="One customer's id.")
        who.add_argument("--all", action="store_true", help="Every customer.")
        parser.add_argument("--channel", choices=["email", "link"], default="email")
        parser.add_argument("--print-links", action="store_true", help="Print each link made (customer id, link).")

    def handle(self, *args: Any, **options: Any) -> None:
        survey = Survey.objects.filter(slug=options["survey"]).first()
        if survey is None:
            raise CommandError(f"No survey with slug {options['survey']!r}.")
        if options["customer"] is not None:
            if not Customer.objects.filter(pk=options["customer"]).exists():
                raise CommandError(f"No customer with id {options['customer']}.")
            ids = [options["customer"]]
        else:
            ids = list(Customer.objects.order_by("id").values_list("id", flat=True))
        channel = Invitation.Channel.EMAIL if options["channel"] == "email" else Invitation.Channel.LINK
        sent = 0
        skipped: Counter = Counter()
        for start in range(0, len(ids), SEND_BATCH_SIZE):
            result = invitations_send_batch(
                survey=survey, customer_ids=ids[start : start + SEND_BATCH_SIZE], channel=channel
            )
            sent += len(result.made)
            skipped += result.skipped
            if options["print_links"]:
                for invitation, token in result.made:
                    self.stdout.write(f"{invitation.customer_id}\t{invitation_url(token)}")
        self.stdout.write(f"{survey.name}: {sent} invited, {sum(skipped.values())} skipped.")
        for code, n in skipped.most_common():
            label = SkipReason(code).label if code in SkipReason.values else code
            self.stdout.write(f"  skipped, {label}: {n}")
