"""Builders of raw history for metrics tests (answers need an invitation each)."""

from datetime import datetime

from customers.models import Customer
from surveys.models import Response, Survey
from tests.surveys.factories import InvitationFactory, ResponseFactory, SurveyFactory

SURVEY_SLUGS = {"nps": "metrics-nps", "csat": "metrics-csat", "ces": "metrics-ces"}


def survey(kind: str) -> Survey:
    return SurveyFactory(slug=SURVEY_SLUGS[kind], kind=kind)


def answer(customer: Customer, kind: str, score: int, at: datetime) -> Response:
    invitation = InvitationFactory(survey=survey(kind), customer=customer, sent_at=at, created_at=at)
    return ResponseFactory(invitation=invitation, customer=customer, kind=kind, score=score, submitted_at=at)
