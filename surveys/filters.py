"""FilterSets of the survey staff pages (and of the API when it wants whole days): survey answers."""

from django_filters import rest_framework as filters

from customers.filters import SURVEY_KINDS, SegmentMembersMixin, day_range, segment_filter
from surveys.models import Response


class ResponseListFilter(SegmentMembersMixin, filters.FilterSet):
    """Answers of a segment's members: kind, score range and submitted on whole days (TIME_ZONE).
    Promoters of a period are kind=nps&score_min=9&score_max=10 with the period's first and last day."""

    segment = segment_filter()
    kind = filters.ChoiceFilter(choices=SURVEY_KINDS)
    score_min = filters.NumberFilter(field_name="score", lookup_expr="gte", min_value=0, max_value=10)
    score_max = filters.NumberFilter(field_name="score", lookup_expr="lte", min_value=0, max_value=10)
    submitted_after, submitted_before = day_range("submitted_at", "Answered")

    class Meta:
        model = Response
        fields = ["segment", "kind", "score_min", "score_max", "submitted_after", "submitted_before"]
