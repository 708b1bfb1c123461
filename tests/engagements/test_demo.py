import io

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
