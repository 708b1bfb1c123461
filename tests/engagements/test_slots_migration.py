"""Migration 0005 gives the opportunities there are their slots, and each held sign-up one of its own; an
opportunity holding more sign-ups than its capacity (written around the services) stops it, named."""

from datetime import date, timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from tests.helpers import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("engagements", "0004_constraint_messages")
AFTER = ("engagements", "0005_slots")


@pytest.fixture(autouse=True)
def _back_to_the_latest_migrations():
    """Leave the database as the other tests expect it: every app at its latest migration."""
    yield
    migrate_to_latest()


def _world(apps):
    """(make an opportunity, make a sign-up) on the historical models."""
    year = apps.get_model("contributions", "ProgramYear").objects.create(
        year=2026, opens_on=date(2026, 1, 1), deadline=date(2027, 1, 1)
    )
    activity_type = apps.get_model("contributions", "ActivityType").objects.create(
        program_year=year, code="blog", name="Blog post", category="brand", points=20, unit="item",
        tracking="engagement",
    )  # fmt: skip
    Opportunity = apps.get_model("engagements", "Opportunity")
    SignUp = apps.get_model("engagements", "SignUp")
    User = apps.get_model("accounts", "User")

    def opportunity(slug, capacity):
        return Opportunity.objects.create(
            title=slug, slug=slug, category="blog", activity_type=activity_type, summary="s", description="d",
            participation="p", crediting="c", capacity=capacity, state="published",
        )  # fmt: skip

    def signups(opportunity, *states):
        for state in states:
            n = User.objects.count()
            member = User.objects.create(email=f"member{n}@example.com")
            moment = timezone.now() + timedelta(days=3)  # what a scheduled or an offered sign-up carries
            SignUp.objects.create(
                opportunity=opportunity, member=member, state=state, scheduled_for=moment, offer_expires_at=moment
            )

    return opportunity, signups


def test_each_held_sign_up_gets_a_slot_of_its_own_and_the_rest_stay_free():
    apps = migrate_to(BEFORE)
    opportunity, signups = _world(apps)
    limited = opportunity("limited", 4)
    signups(limited, "confirmed", "scheduled", "completed", "withdrawn", "waitlisted")
    unlimited = opportunity("unlimited", None)
    signups(unlimited, "confirmed", "confirmed")

    apps = migrate_to(AFTER)
    Slot = apps.get_model("engagements", "Slot")
    SignUp = apps.get_model("engagements", "SignUp")
    held = list(SignUp.objects.filter(opportunity_id=limited.pk).order_by("pk").values_list("state", "slot_id"))
    slots = set(Slot.objects.filter(opportunity_id=limited.pk).values_list("pk", flat=True))
    assert len(slots) == 4
    assert [state for state, _ in held] == ["confirmed", "scheduled", "completed", "withdrawn", "waitlisted"]
    linked = [slot for _, slot in held[:3]]
    assert set(linked) <= slots and len(set(linked)) == 3 and [slot for _, slot in held[3:]] == [None, None]
    assert set(Slot.objects.filter(opportunity_id=limited.pk, taken=True).values_list("pk", flat=True)) == set(linked)
    assert not Slot.objects.filter(opportunity_id=unlimited.pk).exists()
    assert not SignUp.objects.filter(opportunity_id=unlimited.pk, slot__isnull=False).exists()


def test_an_overbooked_opportunity_stops_the_migration_by_name():
    apps = migrate_to(BEFORE)
    opportunity, signups = _world(apps)
    signups(opportunity("fine", 2), "confirmed")
    overbooked = opportunity("overbooked", 1)
    signups(overbooked, "confirmed", "offered")
    with pytest.raises(DatabaseError, match=r"overbooked \(2 held, capacity 1\)"):
        migrate_to(AFTER)
    overbooked.capacity = 2
    overbooked.save()  # what staff do, told so
    apps = migrate_to(AFTER)
    assert apps.get_model("engagements", "Slot").objects.filter(opportunity_id=overbooked.pk, taken=True).count() == 2
