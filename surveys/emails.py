"""The invitation and reminder emails, in the customer's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.utils import translation

from surveys.models import Invitation
from surveys.selectors import invitation_language, survey_text
from surveys.tokens import invitation_url


def invitation_email(
    *, invitation: Invitation, token: str, reminder: bool = False, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """Subject and body in the invitation's (else the customer's) language, with the personal link
    and one link per score. A score link only preselects the button: the answer is recorded by the
    form's POST, so a mail scanner that follows links records nothing.
    """
    language = invitation_language(invitation)
    survey = invitation.survey
    low, high = survey.scale
    with translation.override(language):
        context = {
            "first_name": invitation.customer.greeting_name,
            "text": survey_text(survey, language),
            "url": invitation_url(token),
            "scores": [(n, invitation_url(token, score=n)) for n in range(low, high + 1)],
            "expires_at": invitation.expires_at,
            "reminder": reminder,
            "language": language,
        }
        subject = render_to_string("surveys/email/invitation_subject.txt", context).strip()
        body = render_to_string("surveys/email/invitation_body.txt", context)
        html = render_to_string("surveys/email/invitation_body.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.customer.email],
        connection=connection,
    )
    message.attach_alternative(html, "text/html")
    return message
