import time

from django.core.management.base import BaseCommand, CommandParser

from customers.demo_data import demo_reset, generate
from customers.models import Customer


class Command(BaseCommand):
    help = "Load realistic demo customers with two years of interactions, orders, events and survey answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=3000, help="How many customers to add.")
        parser.add_argument("--seed", type=int, default=7, help="Random seed (same seed, same data).")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if there are customers already (and say so when their number differs from --customers).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete every customer with their records (orders, interactions, events, survey invitations and "
            "answers, metrics) first, then seed.",
        )

    def handle(self, *args: object, customers: int, seed: int, if_empty: bool, reset: bool, **options: object) -> None:
        if reset:
            deleted = demo_reset()
            self.stdout.write(f"Deleted {deleted:,} customers and their records.")
        elif if_empty and Customer.objects.exists():
            existing = Customer.objects.count()
            if existing != customers:
                self.stdout.write(
                    self.style.WARNING(
                        f"The database holds {existing:,} customers, not the {customers:,} asked for; keeping them. "
                        f"To reload {customers:,}: manage.py seed_demo --reset --customers {customers} "
                        f"(or DEMO_RESET=1 DEMO_CUSTOMERS={customers} make demo)."
                    )
                )
            else:
                self.stdout.write(f"{existing:,} customers exist already; not seeding.")
            return
        started = time.perf_counter()
        result = generate(customers=customers, seed=seed)
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {result.customers:,} customers, {result.interactions:,} interactions, {result.orders:,} "
                f"orders, {result.events:,} events, {result.invitations:,} invitations and {result.responses:,} "
                f"answers in {seconds:.1f}s."
            )
        )
