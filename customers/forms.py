"""Forms of the staff pages: customers, interactions, replies and the CSV import upload."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce, Concat, NullIf, Trim
from django.utils import timezone

from core.formats import staff_name
from customers import sheet
from customers.countries import country_code
from customers.lifecycle import reconcile_stage
from customers.models import Customer, Interaction
from customers.roles import users_with_a_role
from customers.services import CUSTOMER_FIELDS


def clean_country_code(value: str) -> str:
    """Empty, or an ISO 3166-1 alpha-2 code: two letters, or a market's name ("Thailand", "泰國")
    turned into its code (customers.countries)."""
    return country_code(value)


def split_tags(value: str) -> list[str]:
    """Tag names separated by ";" or "," (customers.sheet)."""
    return sheet.split_tags(value)


def staff_users() -> QuerySet:
    """Staff who can own customers and handle interactions (users with a role, customers.roles), in
    the order of their display names."""
    display_name = Coalesce(NullIf(Trim(Concat(F("first_name"), Value(" "), F("last_name"))), Value("")), F("username"))
    return users_with_a_role().annotate(display_name=display_name).order_by("display_name", "username")


def label_staff_choices(form: forms.Form) -> forms.Form:
    """Choices of users in `form` labelled with their display name (core.formats.staff_name), not
    str(user), so a select shows people as every page does."""
    user_model = get_user_model()
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField) and field.queryset.model is user_model:
            field.label_from_instance = staff_name
    return form


def follow_churn(form: forms.ModelForm, data: dict[str, Any]) -> dict[str, Any]:
    """Reconcile a Customer ModelForm's stage and churn date (customers.lifecycle) in clean(), before
    the model's check constraint sees them; a contradiction becomes a form error."""
    if "lifecycle_stage" in data and "churned_at" in data:
        try:
            data["lifecycle_stage"], data["churned_at"] = reconcile_stage(
                stage=data["lifecycle_stage"],
                churned_at=data["churned_at"],
                stage_before=form.instance.lifecycle_stage,
                churned_before=form.instance.churned_at,
                today=timezone.localdate(),
            )
        except ValidationError as error:
            form.add_error(None, error)
    return data


class CustomerAdminForm(forms.ModelForm):
    """The Django admin's customer form: the stage follows the churn date as on the staff pages."""

    class Meta:
        model = Customer
        fields = [*CUSTOMER_FIELDS, "tags"]  # the admin narrows them to its fieldsets

    def clean(self) -> dict[str, Any]:
        return follow_churn(self, super().clean())


class CustomerForm(forms.ModelForm):
    # Not limited to 2 characters here, so "Malaysia" gets the helpful message of clean_country.
    country = forms.CharField(
        required=False,
        help_text="2-letter code (ISO 3166-1), e.g. TH, or the name of one of our markets.",
        widget=forms.TextInput(attrs={"size": 2, "autocapitalize": "characters"}),
    )
    tags_text = forms.CharField(
        label="Tags",
        required=False,
        help_text="Separate tags with semicolons (commas work too), e.g. vip; reseller.",
        max_length=500,
    )

    class Meta:
        model = Customer
        fields = list(CUSTOMER_FIELDS)
        widgets = {
            "acquired_at": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "churned_at": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }
        labels = {
            "consent_email": "Agrees to email",
            "consent_sms": "Agrees to SMS",
            "external_id": "External id",
            "acquired_at": "Acquired on",
            "churned_at": "Churned on",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff_users()
        self.fields["owner"].empty_label = "Nobody"
        label_staff_choices(self)
        self.fields["name"].widget.attrs["autofocus"] = True
        if self.instance.pk:
            self.fields["tags_text"].initial = sheet.join_tags([t.name for t in self.instance.tags.all()])

    def clean_country(self) -> str:
        return clean_country_code(self.cleaned_data.get("country", ""))

    def clean_external_id(self) -> str:
        return self.cleaned_data["external_id"].strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        acquired, churned = data.get("acquired_at"), data.get("churned_at")
        if acquired and churned and churned < acquired:
            self.add_error("churned_at", "The churn date cannot be before the acquisition date.")
        return follow_churn(self, data)

    def service_fields(self) -> dict[str, Any]:
        """cleaned_data for customers.services (every model field of the form, without the tags)."""
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def tag_names(self) -> list[str]:
        return split_tags(self.cleaned_data.get("tags_text", ""))


class InteractionQuickForm(forms.Form):
    """The one-line form on the profile: subject first, sensible defaults for the rest."""

    channel = forms.ChoiceField(choices=Interaction.Channel.choices, initial=Interaction.Channel.PHONE)
    kind = forms.ChoiceField(choices=Interaction.Kind.choices, initial=Interaction.Kind.SUPPORT)
    direction = forms.ChoiceField(choices=Interaction.Direction.choices, initial=Interaction.Direction.INBOUND)
    subject = forms.CharField(
        max_length=200, widget=forms.TextInput(attrs={"autofocus": True, "placeholder": "What was it about?"})
    )
    notes = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "Notes (optional)"}))

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"].strip()
        if not subject:
            raise ValidationError("Say in a few words what the interaction was about.")
        return subject


class InteractionForm(forms.ModelForm):
    class Meta:
        model = Interaction
        fields = ["subject", "channel", "kind", "direction", "opened_at", "staff", "notes"]
        widgets = {
            "opened_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "notes": forms.Textarea(attrs={"rows": 5}),
        }
        labels = {"staff": "Handled by"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = staff_users()
        label_staff_choices(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opened = data.get("opened_at")
        inst = self.instance
        if opened and inst.first_response_at and opened > inst.first_response_at:
            self.add_error("opened_at", "An interaction cannot be opened after its first response.")
        if opened and inst.resolved_at and opened > inst.resolved_at:
            self.add_error("opened_at", "An interaction cannot be opened after it was resolved.")
        return data

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError("Write the reply before sending it.")
        return body


class CustomerImportForm(forms.Form):
    # About 100,000 customers with every column; the import runs as a background job.
    MAX_BYTES = 20 * 1024 * 1024

    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV with a header row, at most 20 MB.")
    valid_rows_only = forms.BooleanField(
        label="Import the valid rows only",
        required=False,
        help_text="Without this, a file with any invalid row imports nothing.",
    )
    update_existing = forms.BooleanField(
        label="Update customers that already exist (matched by external id)",
        required=False,
        help_text="Without this, a row whose external id already exists is reported as an error.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            size_mb = upload.size / (1024 * 1024)
            raise ValidationError(
                f"The file is {size_mb:.1f} MB; the limit is 20 MB. Split it into smaller files and import each."
            )
        if upload.size == 0:
            raise ValidationError("The file is empty.")
        return upload


def tidy_filter_form(form: forms.Form) -> forms.Form:
    """Presentation of the shared CustomerFilter's form on the list page: date pickers, "Any" for no choice,
    people by their display name."""
    label_staff_choices(form)
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget.input_type = "date"
        if getattr(field, "empty_label", None) is not None:
            field.empty_label = "Any"
    return form


class ErasureForm(forms.Form):
    """Erasing cannot be undone: the user types the customer's external id to confirm."""

    confirm = forms.CharField(
        label="Type the customer's external id to confirm",
        max_length=64,
        help_text="Erasure removes the name, contact details, free texts and history values for good.",
    )

    def __init__(self, customer: Customer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.customer.external_id:
            raise ValidationError(f"Type {self.customer.external_id} exactly to confirm the erasure.")
        return value
