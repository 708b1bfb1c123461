"""Migration 0026 rounds down a fractional maximum per claim of a type counted in whole items or
sessions (the admin allowed 2.5 per item before it), records why in the type's history, and only then
adds the check that refuses such a maximum."""

from datetime import date
from decimal import Decimal

import pytest

from tests.helpers import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("contributions", "0025_certificate_number_form")
AFTER = ("contributions", "0026_activitytype_whole_units")


@pytest.fixture(autouse=True)
def _back_to_the_latest_migrations():
    """Leave the database as the other tests expect it: every app at its latest migration."""
    yield
    migrate_to_latest()


def test_a_fractional_maximum_of_a_whole_unit_is_rounded_down_and_the_change_recorded():
    apps = migrate_to(BEFORE)
    ProgramYear = apps.get_model("contributions", "ProgramYear")
    ActivityType = apps.get_model("contributions", "ActivityType")
    year = ProgramYear.objects.create(year=2026, opens_on=date(2026, 1, 1), deadline=date(2027, 1, 1))

    def activity_type(code, unit, maximum):
        return ActivityType.objects.create(
            program_year=year, code=code, name=code, category="brand", points=10, unit=unit,
            max_quantity_per_claim=Decimal(maximum),
        )  # fmt: skip

    story = activity_type("story", "item", "2.5")
    workshop = activity_type("workshop", "session", "0.5")
    mentoring = activity_type("mentoring", "hour", "2.5")
    talk = activity_type("talk", "item", "3")

    apps = migrate_to(AFTER)
    ActivityType = apps.get_model("contributions", "ActivityType")
    HistoricalActivityType = apps.get_model("contributions", "HistoricalActivityType")
    maxima = dict(ActivityType.objects.values_list("code", "max_quantity_per_claim"))
    assert maxima == {"story": 2, "workshop": 1, "mentoring": Decimal("2.5"), "talk": 3}
    recorded = {
        (h.id, h.history_type, h.max_quantity_per_claim, h.history_change_reason, h.history_user_id)
        for h in HistoricalActivityType.objects.all()
    }
    assert recorded == {
        (
            story.pk,
            "~",
            2,
            "Maximum per claim 2.5 rounded down to 2: claims per item are whole numbers.",
            None,
        ),
        (
            workshop.pk,
            "~",
            1,
            "Maximum per claim 0.5 raised to 1, the least whole one: claims per session are whole numbers.",
            None,
        ),
    }
    assert {(h.name, h.points, h.unit) for h in HistoricalActivityType.objects.all()} == {
        ("story", 10, "item"),
        ("workshop", 10, "session"),
    }, "the rest of the row is recorded as it is"
    assert mentoring.pk not in {h.id for h in HistoricalActivityType.objects.all()}
    assert talk.pk not in {h.id for h in HistoricalActivityType.objects.all()}
