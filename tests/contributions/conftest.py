from datetime import date

import pytest

from tests.factories import ActivityTypeFactory, MACertificationFactory, ProgramYearFactory


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
