import io
from datetime import timedelta

import pytest
from django.core.management import call_command

from engagements.models import Opportunity, SignUp

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_opportunities_of_every_kind_once():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    opportunities = {o.slug: o for o in Opportunity.objects.all()}
    assert len(opportunities) == 5
    assert {o.category for o in opportunities.values()} >= {"blog", "speaking", "training", "mentoring"}
    assert opportunities["mentor-an-emerging-modeler"].capacity is None
    assert opportunities["partner-summit-panel"].state == Opportunity.State.CANCELLED
    speaking = opportunities["anaplan-live-speaker-slots"]
    assert speaking.signups.filter(state=SignUp.State.CONFIRMED).count() == 2
    assert list(
        speaking.signups.filter(state=SignUp.State.WAITLISTED).order_by("pk").values_list("member__email", flat=True)
    ) == ["ava.member@example.com", "ben.member@example.com"]
    assert SignUp.objects.filter(member__email="ava.member@example.com", state=SignUp.State.SCHEDULED).exists()
    assert SignUp.objects.filter(state=SignUp.State.CANCELLED, member__email="ben.member@example.com").exists()


def test_the_demo_definitions_resolve_their_type_and_moments_without_changing_the_data():
    import time_machine
    from django.utils import timezone

    from contributions.models import ActivityType
    from engagements import demo

    types = {code: ActivityType(code=code, name=name) for code, name, _category, _points in demo.ACTIVITY_TYPES}
    with time_machine.travel("2026-03-02 08:00:00+00:00", tick=False):
        resolved = {fields["slug"]: fields for fields in demo._opportunities(types)}
        now = timezone.now()
    speaker = resolved["anaplan-live-speaker-slots"]
    assert speaker["activity_type"] is types["public-speaking"]
    assert speaker["starts_at"] == (now + timedelta(days=45)).replace(hour=10, minute=0, second=0, microsecond=0)
    training = resolved["train-the-trainer-spring"]
    assert training["signup_opens_at"] == (now - timedelta(days=30)).replace(hour=15, minute=0, second=0, microsecond=0)
    assert resolved["mentor-an-emerging-modeler"]["starts_at"] is None
    assert demo.OPPORTUNITIES[1]["activity_type"] == "public-speaking"  # the definitions stay data
