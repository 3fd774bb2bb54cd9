"""Forms of the support pages: the queue's bulk actions, assignment, priority and email mutes."""

from typing import Any

from django import forms

from customers.roles import users_with_a_role
from support.models import Notification, Priority, Team


def staff_choices() -> Any:
    """Active users with a role, the people work can be assigned to."""
    return users_with_a_role()


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full = obj.get_full_name()
        return f"{full} ({obj.get_username()})" if full else obj.get_username()


class BulkForm(forms.Form):
    """A bulk action on the queue. The first POST shows a confirmation with the count; the second,
    with confirm set, does it."""

    ACTIONS = [
        ("assign", "Assign interactions"),
        ("resolve", "Resolve interactions"),
        ("close_follow_ups", "Close follow-ups with one note"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    interactions = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=[])
    follow_ups = forms.TypedMultipleChoiceField(coerce=int, required=False, choices=[])
    assignee = StaffChoiceField(queryset=staff_choices(), required=False, empty_label="Unassigned")
    note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()
        # Ids are checked against the database by the view (open rows only); any integer passes here.
        for name in ("interactions", "follow_ups"):
            self.fields[name].valid_value = lambda value: str(value).isdigit()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action in ("assign", "resolve") and not data.get("interactions"):
            raise forms.ValidationError("Tick at least one interaction.")
        if action == "close_follow_ups":
            if not data.get("follow_ups"):
                raise forms.ValidationError("Tick at least one follow-up.")
            if not (data.get("note") or "").strip():
                self.add_error("note", "Write what you did to close the loop.")
        return data


class AssignForm(forms.Form):
    assignee = StaffChoiceField(queryset=staff_choices(), required=False, empty_label="Unassigned")
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False, empty_label="No team")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=Priority.choices)


class EmailMuteForm(forms.Form):
    muted = forms.MultipleChoiceField(
        choices=Notification.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Do not email me about",
    )
