"""CSV import of customers: read, validate every row, then write all valid rows in one transaction.

The file is checked completely before anything is written. By default one bad row means nothing is
imported and the report lists every problem (row number as a spreadsheet shows it, column, message).
With `valid_rows_only` the good rows are imported and the bad ones still reported.
With `update_existing`, a row whose external id already exists updates that customer: every column
present in the file is overwritten and the row's tags are added (tags are never removed by an import);
without it such a row is an error, so a re-uploaded file cannot silently overwrite edits.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from customers import sheet
from customers.forms import clean_country_code, split_tags
from customers.lifecycle import reconcile_stage
from customers.models import Customer, Language
from customers.phones import normalise_phone
from customers.services import tags_from_names
from metrics.stale import mark_customers_stale

# The customer fields a spreadsheet holds (not the owner, a staff account, nor consent, which is given
# by the customer), with the tags after the plan: the export's columns (customers.sheet).
COLUMNS = [field for _label, field in sheet.SHEET_COLUMNS]
REQUIRED_COLUMNS = ["external_id", "name"]
BATCH = 1000
LOOKUP_CHUNK = 5000


class ImportFileError(Exception):
    """The file as a whole cannot be read: wrong encoding, binary, no or bad header."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


def _choice_field(choices: Iterable[tuple[str, str]], default: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(choices=list(choices), required=False, empty_value=default)


class CustomerRowForm(forms.Form):
    """The columns of one CSV row. Choice columns accept the stored value or the label, in any case.

    Rows are validated by `validate_row` with these field objects directly: building a Form per row
    deep-copies every field, which was a third of the import time of a large file.
    """

    external_id = forms.CharField(max_length=64)
    name = forms.CharField(max_length=200)
    first_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(max_length=32, required=False)
    company = forms.CharField(max_length=200, required=False)
    country = forms.CharField(max_length=10, required=False)
    city = forms.CharField(max_length=100, required=False)
    language = _choice_field(Language.choices, Language.ENGLISH)
    lifecycle_stage = _choice_field(Customer.Stage.choices, Customer.Stage.ACTIVE)
    plan = _choice_field(Customer.Plan.choices, Customer.Plan.FREE)
    tags = forms.CharField(required=False, max_length=1000)
    acquired_at = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    churned_at = forms.DateField(required=False, input_formats=["%Y-%m-%d"])


ROW_FIELDS: dict[str, forms.Field] = CustomerRowForm.base_fields
# Stored value or label, lower-cased -> stored value.
CHOICE_ALIASES: dict[str, dict[str, str]] = {
    name: {
        alias.lower(): str(stored) for stored, label in ROW_FIELDS[name].choices for alias in (str(stored), str(label))
    }
    for name in ("language", "lifecycle_stage", "plan")
}


def _clean_tags(value: str) -> list[str]:
    tags = split_tags(value)
    too_long = [t for t in tags if len(t) > 50]
    if too_long:
        raise ValidationError(f"Tags are at most 50 characters: “{too_long[0][:20]}…”.")
    return tags


EXTRA_CLEAN = {"country": clean_country_code, "tags": _clean_tags}


def validate_row(row: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """(cleaned values of every column, [(column, message)]) of one row; missing columns get their default."""
    data: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for name, form_field in ROW_FIELDS.items():
        value = (row.get(name) or "").strip()
        if name in CHOICE_ALIASES:
            value = CHOICE_ALIASES[name].get(value.lower(), value)
        try:
            cleaned = form_field.clean(value)
            if name in EXTRA_CLEAN:
                cleaned = EXTRA_CLEAN[name](cleaned)
        except ValidationError as error:
            errors.extend((name, str(message)) for message in error.messages)
            continue
        data[name] = cleaned
    acquired, churned = data.get("acquired_at"), data.get("churned_at")
    if acquired and churned and churned < acquired:
        errors.append(("churned_at", "The churn date cannot be before the acquisition date."))
    if data.get("phone"):
        try:
            data["phone"] = normalise_phone(data["phone"], country=data.get("country", ""))
        except ValidationError as error:
            errors.extend(("phone", str(message)) for message in error.messages)
    return data, errors


def read_rows(raw: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Decode and parse the file: (header, [(row number, {column: value})]). Row 1 is the header."""
    if b"\x00" in raw[:8192]:
        raise ImportFileError("This is not a CSV file (it looks like a binary file, e.g. a spreadsheet).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "The file is not UTF-8 text. In your spreadsheet choose “Save as… CSV UTF-8” and upload it again."
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise ImportFileError("The file is empty: the first row must be a header with the column names.")
        raw_header = [h.strip().lower() for h in header]
        source = sheet.detect_source(raw_header)
        header = _our_columns(raw_header, source)
        composed = {"name"} if source == "hubspot" else set()
        missing = [c for c in REQUIRED_COLUMNS if c not in header and c not in composed]
        if missing:
            raise ImportFileError(f"The header is missing the required column(s): {', '.join(missing)}.")
        duplicated = sorted({h for h in header if h and header.count(h) > 1})
        if duplicated:
            raise ImportFileError(f"The header names a column more than once: {', '.join(duplicated)}.")
        rows = []
        for values in reader:
            number = reader.line_num
            if not any(v.strip() for v in values):
                continue  # blank lines, e.g. at the end of the file
            rows.append((number, _row(raw_header, header, values, source), len(values)))
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from exc
    if not rows:
        raise ImportFileError("The file has a header but no customer rows.")
    width = len(raw_header)
    header = [h for h in header if h]
    if source == "hubspot" and "name" not in header:
        header.append("name")
    checked = []
    for number, row, count in rows:
        row["__width__"] = "" if count == width else f"{count}"
        checked.append((number, row))
    return header, checked


def _our_columns(raw_header: list[str], source: str | None) -> list[str]:
    """Our column for each header cell ("" for a column read past: a computed figure, or a column of
    another tool's export that has no place here). Unknown columns of Rapport's own format are an error."""
    if source is not None:
        mapping = sheet.SOURCES[source][0]
        return [mapping.get(h, "") for h in raw_header]
    columns = [sheet.rapport_column(h) or "" for h in raw_header]
    unknown = [h for h, c in zip(raw_header, columns, strict=True) if not c and h not in sheet.COMPUTED_COLUMNS]
    if unknown:
        raise ImportFileError(
            f"Unknown column(s) in the header: {', '.join(unknown)}. Allowed columns: {', '.join(COLUMNS)} "
            "(or the column names of Rapport's customer export)."
        )
    return columns


def _undo_neutralise(value: str) -> str:
    """Exports put an apostrophe before a cell a spreadsheet would run as a formula ("'+66812345678");
    it is not part of the value."""
    if value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def _row(raw_header: list[str], header: list[str], values: list[str], source: str | None) -> dict[str, str]:
    row = {c: _undo_neutralise(v) for c, v in zip(header, values, strict=False) if c}
    if source is not None:
        if row.get("acquired_at"):
            row["acquired_at"] = row["acquired_at"].strip()[:10]  # "2024-01-15 10:22" or ISO 8601 -> the day
        if source == "hubspot":
            raw = dict(zip(raw_header, values, strict=False))
            if "name" not in row:
                row["name"] = " ".join(p.strip() for p in (raw.get("first name", ""), raw.get("last name", "")) if p)
            if "lifecycle_stage" in row:
                stage = row["lifecycle_stage"].strip().lower().replace(" ", "")
                row["lifecycle_stage"] = sheet.HUBSPOT_STAGES.get(stage, "active") if stage else ""
    return row


def _existing(external_ids: list[str]) -> dict[str, Customer]:
    found: dict[str, Customer] = {}
    for start in range(0, len(external_ids), LOOKUP_CHUNK):
        chunk = external_ids[start : start + LOOKUP_CHUNK]
        found.update((c.external_id, c) for c in Customer.objects.filter(external_id__in=chunk))
    return found


def _ids(external_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(external_ids), LOOKUP_CHUNK):
        chunk = external_ids[start : start + LOOKUP_CHUNK]
        found.update(Customer.objects.filter(external_id__in=chunk).values_list("external_id", "id"))
    return found


def customers_import(
    *,
    raw: bytes,
    valid_rows_only: bool = False,
    update_existing: bool = False,
    actor: Any = None,
) -> ImportResult:
    """Validate every row of a customers CSV, then import (see the module docstring for the rules).

    Raises ImportFileError when the file itself is unreadable. Side effects: creates/updates customers
    and their tags in one transaction with bulk queries, with audit records by `actor`, and marks the
    imported customers stale for the metrics engine.
    """
    header, rows = read_rows(raw)
    result = ImportResult(rows=len(rows))
    parsed: list[tuple[int, dict[str, Any]]] = []
    first_seen: dict[str, int] = {}
    for number, row in rows:
        width = row.pop("__width__")
        if width:
            result.errors.append(
                RowError(number, "—", f"The row has {width} values but the header has {len(header)} columns.")
            )
            continue
        data, errors = validate_row(row)
        if errors:
            result.errors.extend(RowError(number, column, message) for column, message in errors)
            continue
        ext = data["external_id"]
        if ext in first_seen:
            result.errors.append(RowError(number, "external_id", f"“{ext}” is already used in row {first_seen[ext]}."))
            continue
        first_seen[ext] = number
        parsed.append((number, data))

    columns = [c for c in header if c not in ("tags", "external_id")]
    if {"lifecycle_stage", "churned_at"} & set(columns):
        # The stage follows the churn date (customers.lifecycle): writing one may change the other.
        columns += [c for c in ("lifecycle_stage", "churned_at") if c not in columns]
    existing = _existing([d["external_id"] for _n, d in parsed])
    today = timezone.localdate()
    to_create: list[Customer] = []
    to_update: list[Customer] = []
    tags: dict[str, list[str]] = {}
    for number, data in parsed:
        ext = data["external_id"]
        customer = existing.get(ext)
        if customer is not None and not update_existing:
            result.errors.append(
                RowError(
                    number,
                    "external_id",
                    f"A customer with external id “{ext}” already exists "
                    "(tick “Update customers that already exist” to update it).",
                )
            )
            continue
        if customer is None:
            customer = Customer(external_id=ext, acquired_at=today)
        before = (customer.lifecycle_stage, customer.churned_at)
        for column in columns:
            # An empty acquired_at keeps the stored date (or today for a new customer): the field is required.
            if column == "acquired_at" and data[column] is None:
                continue
            setattr(customer, column, data[column])
        if customer.churned_at and customer.churned_at < customer.acquired_at:
            result.errors.append(
                RowError(
                    number,
                    "churned_at",
                    f"The churn date {customer.churned_at} is before the acquisition date {customer.acquired_at}.",
                )
            )
            continue
        try:
            customer.lifecycle_stage, customer.churned_at = reconcile_stage(
                stage=customer.lifecycle_stage,
                churned_at=customer.churned_at,
                stage_before=before[0],
                churned_before=before[1],
                today=today,
            )
        except ValidationError as error:
            result.errors.extend(RowError(number, column, m) for column, ms in error.message_dict.items() for m in ms)
            continue
        (to_update if customer.pk else to_create).append(customer)
        tags[ext] = data["tags"] if "tags" in header else []

    result.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    if (result.errors and not valid_rows_only) or not (to_create or to_update):
        return result
    _write(to_create=to_create, to_update=to_update, update_fields=columns, tags=tags, actor=actor)
    result.created, result.updated, result.imported = len(to_create), len(to_update), True
    return result


def _write(
    *,
    to_create: list[Customer],
    to_update: list[Customer],
    update_fields: list[str],
    tags: dict[str, list[str]],
    actor: Any,
) -> None:
    now = timezone.now()
    with transaction.atomic():
        if to_create:
            bulk_create_with_history(
                to_create, Customer, batch_size=BATCH, default_user=actor, default_change_reason="CSV import"
            )
        if to_update and update_fields:
            # An upsert on external_id (INSERT ... ON CONFLICT DO UPDATE) rather than bulk_update, whose
            # CASE WHEN per row and column took 2 minutes for 45,000 rows; the rows exist, so every one
            # takes the update branch. Their audit records are written in bulk afterwards.
            for customer in to_update:
                customer.updated_at = now
            Customer.objects.bulk_create(
                to_update,
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=["external_id"],
                update_fields=[*update_fields, "updated_at"],
            )
            Customer.history.bulk_history_create(
                to_update, batch_size=BATCH, update=True, default_user=actor, default_change_reason="CSV import"
            )
        # Some backends do not return the ids of bulk-created rows; read them back by external id.
        ids = _ids(list(tags))
        _add_tags(tags, ids)
        mark_customers_stale(customer_ids=ids.values())


def _add_tags(tags: dict[str, list[str]], ids: dict[str, int]) -> None:
    names = {t for row_tags in tags.values() for t in row_tags}
    if not names:
        return
    tag_ids = {t.name: t.pk for t in tags_from_names(names)}
    through = Customer.tags.through
    links = [through(customer_id=ids[ext], tag_id=tag_ids[t]) for ext, row_tags in tags.items() for t in row_tags]
    through.objects.bulk_create(links, batch_size=BATCH, ignore_conflicts=True)
