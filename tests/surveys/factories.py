import hashlib
import secrets
from datetime import timedelta

import factory
from django.utils import timezone

from surveys.models import FollowUp, Invitation, Response, Survey, SurveyText
from tests.customers.factories import CustomerFactory


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"survey-{n}")
    name = factory.Sequence(lambda n: f"Survey {n}")
    kind = Survey.Kind.NPS


class SurveyTextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyText

    survey = factory.SubFactory(SurveyFactory)
    language = "en"
    question = "How likely are you to recommend us to a friend?"
    follow_up = "What is the main reason for your score?"


class InvitationFactory(factory.django.DjangoModelFactory):
    """`invitation.raw_token` holds the token for building the link in tests."""

    class Meta:
        model = Invitation

    survey = factory.SubFactory(SurveyFactory)
    customer = factory.SubFactory(CustomerFactory)
    raw_token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
    token_hash = factory.LazyAttribute(lambda o: hashlib.sha256(o.raw_token.encode()).hexdigest())
    sent_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        raw_token = kwargs.pop("raw_token")
        obj = super()._create(model_class, *args, **kwargs)
        obj.raw_token = raw_token
        return obj


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    invitation = factory.SubFactory(InvitationFactory)
    customer = factory.LazyAttribute(lambda o: o.invitation.customer)
    kind = factory.LazyAttribute(lambda o: o.invitation.survey.kind)
    score = 9
    submitted_at = factory.LazyFunction(timezone.now)


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    response = factory.SubFactory(ResponseFactory, score=3)
    customer = factory.LazyAttribute(lambda o: o.response.customer)
