"""The program rules a member reads on /help/, from the configuration in force (never hard-coded).

Composed from the contributions app's selectors and rules, like the dashboard, so the help page and
the dashboard always give the same numbers.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from contributions import rules, selectors
from contributions.models import ActivityType, ProgramYear


@dataclass(frozen=True)
class ProratingExample:
    qualified_on: datetime.date
    points: int


@dataclass(frozen=True)
class ProgramRules:
    year: ProgramYear | None
    prorating_examples: list[ProratingExample]
    capped_types: list[ActivityType]
    verification_working_days: int
    oldest_waiting_days: int | None
    support_email: str


def program_rules(*, today: datetime.date | None = None) -> ProgramRules:
    today = today or timezone.localdate()
    year = selectors.program_year_current(today=today)
    examples: list[ProratingExample] = []
    capped: list[ActivityType] = []
    if year is not None:
        for month in (1, 4, 7, 10, 12):
            qualified_on = datetime.date(year.year, month, 1)
            if not year.opens_on <= qualified_on < year.deadline:
                continue
            target = rules.prorated_target(
                base=year.target_points,
                method=year.prorating_method,
                qualified_on=qualified_on,
                opens_on=year.opens_on,
                deadline=year.deadline,
            )
            examples.append(ProratingExample(qualified_on=qualified_on, points=target.points))
        capped = list(year.activity_types.filter(is_active=True, annual_cap__isnull=False).order_by("category", "name"))
    oldest = selectors.verification_queue().exclude(submitted_at__isnull=True).values_list("submitted_at", flat=True)
    oldest_submitted = oldest.first()
    waiting = (timezone.now() - oldest_submitted).days if oldest_submitted else None
    return ProgramRules(
        year=year,
        prorating_examples=examples,
        capped_types=capped,
        verification_working_days=settings.MAHOME_VERIFICATION_WORKING_DAYS,
        oldest_waiting_days=waiting,
        support_email=settings.MAHOME_SUPPORT_EMAIL,
    )
