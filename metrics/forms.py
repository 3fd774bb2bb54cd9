"""Forms of the report pages: the period picker and segment management."""

import re
from datetime import date
from typing import Any

from django import forms

from core.calendar import Group, MonthRange, month_start, parse_month, report_today
from customers.models import Segment
from metrics.reports import MAX_MONTHS


class MonthInput(forms.TextInput):
    input_type = "month"

    def __init__(self) -> None:
        super().__init__(attrs={"pattern": r"\d{4}-\d{2}", "placeholder": "YYYY-MM"})


# The earliest month a report range may start: older dates are typos (year 1, 0201), and a range's previous
# period must still be a real calendar range.
EARLIEST_MONTH = date(1900, 1, 1)


class PeriodForm(forms.Form):
    """?from=YYYY-MM&to=YYYY-MM&group=month|quarter|year; blank means the last 12 complete months + this one.

    Months run from EARLIEST_MONTH to the current month; `from` must not be after `to`; at most MAX_MONTHS.
    """

    def __init__(self, data: Any = None, *, today: date | None = None, grouping: bool = True, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.today = today or report_today()
        default = MonthRange.default(self.today)
        self.fields = {
            "from": forms.CharField(
                label="From month", required=False, widget=MonthInput(), initial=f"{default.first:%Y-%m}"
            ),
            "to": forms.CharField(
                label="To month", required=False, widget=MonthInput(), initial=f"{default.last:%Y-%m}"
            ),
            "group": forms.ChoiceField(label="Group by", choices=Group.CHOICES, required=False, initial=Group.MONTH),
        }
        if not grouping:
            del self.fields["group"]

    def _month(self, name: str) -> date | None:
        value = (self.cleaned_data.get(name) or "").strip()
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError:
            self.add_error(name, "Enter a month as YYYY-MM, e.g. 2026-03.")
            return None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        current = month_start(self.today)
        first, last = self._month("from"), self._month("to")
        if self.errors:
            return cleaned
        last = last or current
        first = first or MonthRange.default(last).first
        if first < EARLIEST_MONTH or last < EARLIEST_MONTH:
            self.add_error("from" if first < EARLIEST_MONTH else "to", f"Choose months from {EARLIEST_MONTH:%Y-%m} on.")
        elif last > current:
            self.add_error("to", "The range cannot end after the current month.")
        elif first > last:
            self.add_error("from", "The first month must not be after the last month.")
        elif MonthRange(first, last).length > MAX_MONTHS:
            self.add_error("from", f"Choose at most {MAX_MONTHS} months.")
        else:
            cleaned["range"] = MonthRange(first, last)
        cleaned["group"] = cleaned.get("group") or Group.MONTH
        return cleaned

    def error_text(self) -> str:
        """The form's errors as one line, e.g. for a 400 answer to a CSV download."""
        return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in self.errors.items())

    def period(self) -> tuple[MonthRange, str]:
        """The chosen range and grouping; the defaults when the form is invalid."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["range"], self.cleaned_data["group"]
        return MonthRange.default(self.today), Group.MONTH


class SegmentForm(forms.ModelForm):
    """Name and description; the kind only when creating (a segment keeps its kind)."""

    class Meta:
        model = Segment
        fields = ["name", "description", "kind"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "kind": "Dynamic: whoever matches the filter when figures are computed. "
            "Static: the customers matching now become a fixed list you edit by hand."
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["kind"]


EXTERNAL_ID_SPLIT = re.compile(r"[\s,;]+")


class MembersAddForm(forms.Form):
    external_ids = forms.CharField(
        label="Add customers by external id",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "C0000012, C0000345 …"}),
        help_text="One or more external ids, separated by spaces, commas or new lines.",
    )

    def clean_external_ids(self) -> list[str]:
        ids = [i for i in EXTERNAL_ID_SPLIT.split(self.cleaned_data["external_ids"]) if i]
        if not ids:
            raise forms.ValidationError("Enter at least one external id.")
        if len(ids) > 1000:
            raise forms.ValidationError("Add at most 1,000 customers at a time.")
        return list(dict.fromkeys(ids))
