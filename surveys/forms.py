"""Forms of the public answer page and the staff pages."""

import unicodedata

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from surveys.models import COMMENT_MAX_LENGTH, Invitation, Survey


def _readable(text: str) -> bool:
    """False for text with control characters (other than line breaks and tabs) or bytes that
    were not valid UTF-8 (decoded as U+FFFD): what a binary upload looks like.
    """
    for ch in text:
        if ch in "\n\r\t":
            continue
        if ch == "\ufffd" or unicodedata.category(ch) in ("Cc", "Cs", "Co"):
            return False
    return True


class MultilineField(forms.CharField):
    """A textarea's text with its line breaks as LF. Browsers count a line break as one character against
    `maxlength` but send it as CRLF, so a comment at the limit would fail the same limit on the server."""

    def to_python(self, value: object) -> str:
        text = super().to_python(value)
        return text.replace("\r\n", "\n").replace("\r", "\n")


class AnswerForm(forms.Form):
    score = forms.IntegerField(
        error_messages={
            "required": _("Please choose a score."),
            "invalid": _("Please choose one of the score buttons."),
            "min_value": _("Please choose one of the score buttons."),
            "max_value": _("Please choose one of the score buttons."),
        }
    )
    comment = MultilineField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH}),
        error_messages={
            "max_length": _("Please keep your comment under %(limit_value)s characters."),
            "null_characters_not_allowed": _("The comment contains characters we cannot read."),
        },
    )
    revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput, required=False)

    def __init__(self, *args: object, survey: Survey, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        low, high = survey.scale
        self.fields["score"].min_value = low
        self.fields["score"].max_value = high
        self.fields["score"].validators = [MinValueValidator(low), MaxValueValidator(high)]
        self.scale = range(low, high + 1)

    def clean_comment(self) -> str:
        comment = self.cleaned_data.get("comment", "")
        if not _readable(comment):
            raise forms.ValidationError(_("The comment contains characters we cannot read."))
        return comment


class InviteForm(forms.Form):
    """The profile panel's form: make a link to copy, or email it."""

    ACTIONS = [("link", "Create a link to copy"), ("email", "Email it")]

    survey = forms.ModelChoiceField(queryset=Survey.objects.filter(is_active=True), empty_label=None)
    action = forms.ChoiceField(choices=ACTIONS)
    override = forms.BooleanField(
        required=False, label="Send even if the cooldown or recontact rule says no (consent still applies)"
    )

    @property
    def channel(self) -> str:
        return Invitation.Channel.EMAIL if self.cleaned_data["action"] == "email" else Invitation.Channel.LINK


class BulkSendForm(forms.Form):
    survey = forms.ModelChoiceField(queryset=Survey.objects.filter(is_active=True), empty_label=None)


class FollowUpCloseForm(forms.Form):
    note = MultilineField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Write what you did to close the loop."},
    )
