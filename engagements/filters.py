"""The filters of the browse page (django-filter): category, open slots, date."""

from datetime import datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagements.models import Opportunity


class OpportunityFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(
        choices=Opportunity.Category.choices, empty_label=_("All categories"), label=_("Category")
    )
    open_slots = django_filters.BooleanFilter(
        method="filter_open_slots",
        label=_("Only with open slots"),
        widget=forms.CheckboxInput,
    )
    date_from = django_filters.DateFilter(
        method="filter_date_from", label=_("Taking place from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to", label=_("until"), widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = Opportunity
        fields = ["category"]

    def __init__(self, data=None, queryset=None, *, now: datetime | None = None, **kwargs) -> None:
        """`now`: the request's time, as the page's selector read it (the clock of "only with open slots")."""
        super().__init__(data, queryset, **kwargs)
        self.now = now or timezone.now()

    @property
    def active_count(self) -> int:
        """How many filters the member set: shown on the folded filters' summary."""
        if not self.is_bound:
            return 0
        return sum(1 for name in self.filters if self.data.get(name) not in (None, "", "false", "off"))

    def filter_open_slots(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        """A slot a member can take now: published, the sign-up window open (as `signup_refusal` judges it),
        not yet taken place, and a place free (or no limit)."""
        if not value:
            return queryset
        now = self.now
        return queryset.filter(
            Q(capacity__isnull=True) | Q(slots_left__gt=0),
            Q(signup_opens_at__isnull=True) | Q(signup_opens_at__lte=now),
            Q(signup_closes_at__isnull=True) | Q(signup_closes_at__gt=now),
            Q(starts_at__isnull=True) | Q(starts_at__gt=now),
            state=Opportunity.State.PUBLISHED,
        )

    def filter_date_from(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # Ongoing opportunities have no date: they are available whatever the range.
        return queryset.filter(Q(starts_at__isnull=True) | Q(starts_at__date__gte=value))

    def filter_date_to(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(Q(starts_at__isnull=True) | Q(starts_at__date__lte=value))
