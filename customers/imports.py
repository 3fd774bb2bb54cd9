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
from collections.abc import Callable, Iterable, Iterator
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
# The report lists this many problems; a file of 100,000 bad rows is still counted in full.
MAX_REPORTED_ERRORS = 1000


class ImportFileError(Exception):
    """The file as a whole cannot be read: wrong encoding, binary, no or bad header."""


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    """The per-row report. `errors` keeps the first MAX_REPORTED_ERRORS problems; the counts are of all."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    imported: bool = False
    error_count: int = 0
    bad_row_numbers: set[int] = field(default_factory=set)

    @property
    def bad_rows(self) -> int:
        return len(self.bad_row_numbers)

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        self.bad_row_numbers.add(error.row)
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "imported": self.imported,
            "error_count": self.error_count,
            "bad_rows": self.bad_rows,
            "errors": [[e.row, e.column, e.message] for e in self.errors],
        }


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


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise ImportFileError("This is not a CSV file (it looks like a binary file, e.g. a spreadsheet).")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            "The file is not UTF-8 text. In your spreadsheet choose “Save as… CSV UTF-8” and upload it again."
        ) from exc


def read_header(text: str) -> list[str]:
    """The checked header: for each column of the file, the key its cells are read under (our column, a
    customers.sheet marker for another tool's column that needs adapting, or "" for a column read past).
    Rapport's own format (field names or the export's labels) or a recognised contacts export of another
    tool (customers.sheet.SOURCES). Raises ImportFileError."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from exc
    if not header or not any(h.strip() for h in header):
        raise ImportFileError("The file is empty: the first row must be a header with the column names.")
    raw_header = [h.strip().lower() for h in header]
    source = sheet.detect_source(raw_header)
    if source is not None:
        mapping = sheet.SOURCES[source][0]
        header = [mapping.get(h, "") for h in raw_header]
    else:
        header = [sheet.rapport_column(h) or "" for h in raw_header]
        unknown = [h for h, c in zip(raw_header, header, strict=True) if not c and h not in sheet.COMPUTED_COLUMNS]
        if unknown:
            raise ImportFileError(
                f"Unknown column(s) in the header: {', '.join(unknown)}. Allowed columns: {', '.join(COLUMNS)} "
                "(or the column names of Rapport's customer export)."
            )
    missing = [c for c in REQUIRED_COLUMNS if c not in sheet.header_columns(header)]
    if missing:
        raise ImportFileError(f"The header is missing the required column(s): {', '.join(missing)}.")
    duplicated = sorted({h for h in header if h and header.count(h) > 1})
    if duplicated:
        raise ImportFileError(f"The header names a column more than once: {', '.join(duplicated)}.")
    return header


def iter_batches(text: str, header: list[str]) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """The rows after the header, parsed lazily, BATCH at a time: (row number, {column: value}), with
    "__width__" set to the number of values when it differs from the header's. Blank lines are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))
    batch: list[tuple[int, dict[str, str]]] = []
    try:
        next(reader, None)
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank lines, e.g. at the end of the file
            row = sheet.adapt_row(
                {key: sheet.undo_neutralise(v) for key, v in zip(header, values, strict=False) if key}
            )
            row["__width__"] = "" if len(values) == len(header) else f"{len(values)}"
            batch.append((reader.line_num, row))
            if len(batch) >= BATCH:
                yield batch
                batch = []
    except csv.Error as exc:
        raise ImportFileError(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from exc
    if batch:
        yield batch


def read_rows(raw: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Decode and parse the whole file: (header, [(row number, {column: value})]). Row 1 is the header."""
    text = _decode(raw)
    header = read_header(text)
    rows = [row for batch in iter_batches(text, header) for row in batch]
    if not rows:
        raise ImportFileError("The file has a header but no customer rows.")
    return header, rows


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
    progress: Callable[[int], None] | None = None,
    on_import: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Validate every row of a customers CSV, then import (see the module docstring for the rules).

    Two passes over the file, BATCH rows at a time, so memory stays bounded whatever the row count: the
    first checks every row (calling `progress` with the rows checked so far), the second, only if the
    file may be imported, writes the good rows in one transaction, in which `on_import` is called with
    the result (the import job records it there, so a rerun never imports twice). Raises ImportFileError
    when the file itself is unreadable. Side effects: creates/updates customers and their tags with bulk
    queries, with audit records by `actor`, and marks the imported customers stale.
    """
    text = _decode(raw)
    header = read_header(text)
    columns = [c for c in sheet.header_columns(header) if c not in ("tags", "external_id")]
    if {"lifecycle_stage", "churned_at"} & set(columns):
        # The stage follows the churn date (customers.lifecycle): writing one may change the other.
        columns += [c for c in ("lifecycle_stage", "churned_at") if c not in columns]
    result = ImportResult()
    first_seen: dict[str, int] = {}
    for batch in iter_batches(text, header):
        result.rows += len(batch)
        for _number, _customer, _tags, errors in _check_batch(batch, header, columns, first_seen, update_existing):
            for error in errors:
                result.add_error(error)
        if progress:
            progress(result.rows)
    if not result.rows:
        raise ImportFileError("The file has a header but no customer rows.")
    result.errors.sort(key=lambda e: (e.row, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    if result.error_count and not valid_rows_only:
        return result
    if result.bad_rows == result.rows:
        return result
    with transaction.atomic():
        seen: dict[str, int] = {}
        for batch in iter_batches(text, header):
            good = [(n, row) for n, row in batch if n not in result.bad_row_numbers]
            to_create: list[Customer] = []
            to_update: list[Customer] = []
            tags: dict[str, list[str]] = {}
            for _number, customer, row_tags, errors in _check_batch(good, header, columns, seen, update_existing):
                if errors:  # cannot happen for rows that passed the first pass; never write them anyway
                    continue
                (to_update if customer.pk else to_create).append(customer)
                tags[customer.external_id] = row_tags
            _write(to_create=to_create, to_update=to_update, update_fields=columns, tags=tags, actor=actor)
            result.created += len(to_create)
            result.updated += len(to_update)
        result.imported = True
        if on_import:
            on_import(result)
    return result


def _check_batch(
    batch: list[tuple[int, dict[str, str]]],
    header: list[str],
    columns: list[str],
    first_seen: dict[str, int],
    update_existing: bool,
) -> Iterator[tuple[int, Customer | None, list[str], list[RowError]]]:
    """Validate a batch of rows against each other (`first_seen`, across batches) and the database:
    (row number, the customer to save or None, its tags, its errors) per row."""
    parsed: list[tuple[int, dict[str, Any]]] = []
    for number, row in batch:
        width = row.pop("__width__", "")
        if width:
            yield (
                number,
                None,
                [],
                [RowError(number, "—", f"The row has {width} values but the header has {len(header)} columns.")],
            )
            continue
        data, errors = validate_row(row)
        if errors:
            yield number, None, [], [RowError(number, column, message) for column, message in errors]
            continue
        ext = data["external_id"]
        if ext in first_seen:
            yield (
                number,
                None,
                [],
                [RowError(number, "external_id", f"“{ext}” is already used in row {first_seen[ext]}.")],
            )
            continue
        first_seen[ext] = number
        parsed.append((number, data))
    existing = _existing([d["external_id"] for _n, d in parsed])
    today = timezone.localdate()
    for number, data in parsed:
        ext = data["external_id"]
        customer = existing.get(ext)
        if customer is not None and not update_existing:
            yield (
                number,
                None,
                [],
                [
                    RowError(
                        number,
                        "external_id",
                        f"A customer with external id “{ext}” already exists "
                        "(tick “Update customers that already exist” to update it).",
                    )
                ],
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
            yield (
                number,
                None,
                [],
                [
                    RowError(
                        number,
                        "churned_at",
                        f"The churn date {customer.churned_at} is before the acquisition date {customer.acquired_at}.",
                    )
                ],
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
            yield number, None, [], [RowError(number, c, m) for c, ms in error.message_dict.items() for m in ms]
            continue
        yield number, customer, data["tags"] if "tags" in header else [], []


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
