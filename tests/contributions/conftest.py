from datetime import date

import pytest

from contributions import services
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    TechnicalRequirementFactory,
    UserFactory,
)


@pytest.fixture
def year_2026(db):
    return ProgramYearFactory(year=2026, target_points=400)


@pytest.fixture
def speaking(year_2026):
    return ActivityTypeFactory(program_year=year_2026, code="speaking", name="Speak at an event", points=100)


@pytest.fixture
def replies(year_2026):
    return ActivityTypeFactory(
        program_year=year_2026,
        code="replies",
        name="Community reply",
        points=2,
        annual_cap=100,
        evidence_required=False,
    )


@pytest.fixture
def ma(member):
    """The `member` fixture as a certified MA who qualified before 2026 (full target)."""
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    return member


@pytest.fixture
def year_2021(db):
    year = ProgramYearFactory(year=2021, notification_on=date(2022, 1, 15))
    activity_type = ActivityTypeFactory(program_year=year, points=100)
    requirement = TechnicalRequirementFactory(program_year=year, name="Certified Solution Architect, valid for 2022")
    people = {}
    for name, points, met, qualified in [
        ("recert", 400, True, date(2019, 1, 1)),
        ("short", 300, True, date(2019, 1, 1)),
        ("noreq", 500, False, date(2019, 1, 1)),
        ("prorated", 200, True, date(2021, 7, 1)),
        ("optout", 0, False, date(2019, 1, 1)),
    ]:
        user = UserFactory(email=f"{name}@example.com")
        MACertificationFactory(user=user, qualified_on=qualified)
        if points:
            ContributionFactory(
                member=user, activity_type=activity_type, claimed_points=points, awarded_points=points, state="verified"
            )
        if met:
            services.requirement_status_set(requirement=requirement, member=user, met_on=date(2021, 6, 1))
        people[name] = user
    services.opt_out_create(member=people["optout"], program_year=year, today=date(2021, 10, 1))
    UserFactory(email="not-an-ma@example.com")
    return year
