"""The customer spreadsheet: the columns Rapport's customer CSV export writes and its importer reads back,
and the mappings of other tools' contact exports onto them.

One file format both ways: /reports/customers.csv (and any customer export) imports back unchanged
(update mode). Headers may be the export's labels ("External id") or the field names ("external_id").
Tags are written separated by "; " (TAG_SEPARATOR); imports and the form accept ";" or ",".
The figures Rapport computes (NPS, orders, revenue...) are in the export but ignored by the import.
"""

import re

TAG_SEPARATOR = "; "
TAG_SPLIT_RE = re.compile(r"[;,]")

# (header label, Customer field or "tags"), in the export's order.
SHEET_COLUMNS: list[tuple[str, str]] = [
    ("External id", "external_id"),
    ("Name", "name"),
    ("First name", "first_name"),
    ("Email", "email"),
    ("Phone", "phone"),
    ("Company", "company"),
    ("Country", "country"),
    ("City", "city"),
    ("Language", "language"),
    ("Lifecycle stage", "lifecycle_stage"),
    ("Plan", "plan"),
    ("Tags", "tags"),
    ("Acquired", "acquired_at"),
    ("Churned", "churned_at"),
]

# Columns of the export that Rapport computes: read past on import, never written to a customer.
COMPUTED_COLUMNS = frozenset({"latest nps", "orders", "revenue", "clv", "rfm segment", "health score", "churn risk"})

# Cells of other tools' columns that need adapting before they are ours (adapt_row).
LAST_NAME = "__last_name__"
HUBSPOT_STAGE = "__hubspot_stage__"
ACQUIRED_DATETIME = "__acquired_datetime__"
MARKERS = {LAST_NAME: "name", HUBSPOT_STAGE: "lifecycle_stage", ACQUIRED_DATETIME: "acquired_at"}

# Other tools' contact exports: their header (lower case) -> our column. "name" from first + last name
# when the file has no single name column. Columns not listed are ignored (and reported).
HUBSPOT = {
    "record id": "external_id",
    "first name": "first_name",
    "email": "email",
    "phone number": "phone",
    "company name": "company",
    "country/region": "country",
    "city": "city",
    "last name": LAST_NAME,
    "lifecycle stage": HUBSPOT_STAGE,
    "create date": ACQUIRED_DATETIME,
}
CHATWOOT = {
    "id": "external_id",
    "name": "name",
    "email": "email",
    "phone_number": "phone",
    "company_name": "company",
    "city": "city",
    "country": "country",
    "country_code": "country",
    "created_at": ACQUIRED_DATETIME,
}
# HubSpot's lifecycle stages in ours; anything else ("customer", "evangelist", "other") is active.
HUBSPOT_STAGES = {
    "subscriber": "lead",
    "lead": "lead",
    "marketingqualifiedlead": "lead",
    "salesqualifiedlead": "lead",
    "opportunity": "lead",
}
SOURCES: dict[str, tuple[dict[str, str], set[str]]] = {
    # name: (mapping, header columns that identify the file)
    "hubspot": (HUBSPOT, {"record id", "first name", "last name"}),
    "chatwoot": (CHATWOOT, {"id", "name", "phone_number"}),
}

_BY_LABEL = {label.lower(): field for label, field in SHEET_COLUMNS}


def rapport_column(header: str) -> str | None:
    """Our column for a header of Rapport's own format (label or field name), None if it is not one."""
    header = header.strip().lower()
    if header in _BY_LABEL:
        return _BY_LABEL[header]
    if header in _BY_LABEL.values():
        return header
    return None


def detect_source(header: list[str]) -> str | None:
    """ "hubspot" or "chatwoot" when the (lower-case) header is that tool's contacts export, else None."""
    if all(rapport_column(h) or h in COMPUTED_COLUMNS for h in header if h):
        return None
    for name, (_mapping, signature) in SOURCES.items():
        if signature <= set(header):
            return name
    return None


def split_tags(value: str) -> list[str]:
    """Tag names from "vip; reseller" or "vip, reseller": trimmed, lower-case, without blanks or repeats."""
    names = [t.strip().lower() for t in TAG_SPLIT_RE.split(value or "")]
    return list(dict.fromkeys(n for n in names if n))


def join_tags(names: list[str]) -> str:
    return TAG_SEPARATOR.join(sorted(names))


def header_columns(header: list[str]) -> list[str]:
    """Our columns a checked header (imports.read_header) fills, markers included as what they become."""
    columns: list[str] = []
    for key in header:
        column = MARKERS.get(key, key)
        if column and column not in columns:
            columns.append(column)
    return columns


def undo_neutralise(value: str) -> str:
    """Exports put an apostrophe before a cell a spreadsheet would run as a formula ("'+66812345678",
    metrics.exports.neutralise); it is not part of the value."""
    if value.startswith("'") and value[1:2] and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def adapt_row(row: dict[str, str]) -> dict[str, str]:
    """Turn the marked cells of another tool's row into ours: first + last name into the name, HubSpot's
    stage into ours, a creation timestamp ("2024-01-15 10:22", ISO 8601) into its day."""
    if LAST_NAME in row:
        last = row.pop(LAST_NAME).strip()
        if not row.get("name"):
            row["name"] = " ".join(p for p in ((row.get("first_name") or "").strip(), last) if p)
    if HUBSPOT_STAGE in row:
        stage = row.pop(HUBSPOT_STAGE).strip().lower().replace(" ", "")
        row["lifecycle_stage"] = HUBSPOT_STAGES.get(stage, "active") if stage else ""
    if ACQUIRED_DATETIME in row:
        row["acquired_at"] = row.pop(ACQUIRED_DATETIME).strip()[:10]
    return row
