"""Load dated exchange rates from a CSV file: currency,valid_from,rate (a header row with these names).

manage.py import_exchange_rates rates.csv

`rate` is how many units of settings.BASE_CURRENCY one unit of `currency` is worth from `valid_from`
(YYYY-MM-DD) on. A row for a currency and day already stored replaces its rate. The file is checked
first: any bad row imports nothing and every problem is listed with its line number. Orders already
stored keep the rate they were recorded at.
"""

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from customers.currencies import INVALID_MESSAGE, is_currency
from customers.models import ExchangeRate

MAX_RATE = Decimal("9999999999")


class Command(BaseCommand):
    help = "Load exchange rates (currency,valid_from,rate) from a CSV file; all rows or none."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args, path: Path, **options) -> None:
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or not {"currency", "valid_from", "rate"} <= set(reader.fieldnames):
            raise CommandError("The header must name the columns currency, valid_from and rate.")
        rows: dict[tuple[str, date], Decimal] = {}
        problems: list[str] = []
        for line, record in enumerate(reader, start=2):
            currency = (record.get("currency") or "").strip().upper()
            try:
                day = date.fromisoformat((record.get("valid_from") or "").strip())
            except ValueError:
                problems.append(f"line {line}: valid_from must be a date like 2026-01-31")
                continue
            try:
                rate = Decimal((record.get("rate") or "").strip())
            except InvalidOperation:
                problems.append(f"line {line}: rate must be a number")
                continue
            if not is_currency(currency):
                problems.append(f"line {line}: {INVALID_MESSAGE}")
            elif not (0 < rate <= MAX_RATE) or rate.as_tuple().exponent < -10:
                problems.append(f"line {line}: rate must be above 0, at most {MAX_RATE}, with at most 10 decimals")
            else:
                rows[(currency, day)] = rate
        if problems:
            raise CommandError("Nothing imported:\n" + "\n".join(problems))
        with transaction.atomic():
            ExchangeRate.objects.bulk_create(
                [ExchangeRate(currency=c, valid_from=d, rate=r) for (c, d), r in rows.items()],
                update_conflicts=True,
                unique_fields=["currency", "valid_from"],
                update_fields=["rate"],
                batch_size=1000,
            )
        self.stdout.write(f"{len(rows)} exchange rates imported.")
