"""The demo data tells the product's story: a member at every status, community points counted once.

Seeding takes a few seconds, so one test seeds once and checks the whole story.
"""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import User
from contributions.models import ActivityType, Contribution
from mahome import dashboard

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)
EXPECTED_STATUS = {
    "ava.member@example.com": "on_track",
    "ben.member@example.com": "at_risk",
    "cara.met@example.com": "met",
    "dan.optout@example.com": "opted_out",
    "nora.lind@northwind.example": "at_risk",
}


def test_demo_members_cover_every_status_and_community_points_count_once():
    call_command("seed_demo", stdout=StringIO())

    statuses = {
        email: dashboard.build(user=User.objects.get(email=email), today=TODAY)["standing"].status
        for email in EXPECTED_STATUS
    }
    assert statuses == EXPECTED_STATUS
    assert dashboard.build(user=User.objects.get(email="eli.lapsed@example.com"), today=TODAY)["lapsed"]

    codes = list(
        ActivityType.objects.filter(program_year__year=2026, tracking=ActivityType.Tracking.COMMUNITY).values_list(
            "code", flat=True
        )
    )
    assert len(codes) == len(set(codes)), "one catalogue entry per community metric"
    assert "community-replies" in codes
    ava = User.objects.get(email="ava.member@example.com")
    community = Contribution.objects.filter(member=ava, program_year__year=2026, source=Contribution.Source.COMMUNITY)
    per_type = list(community.values_list("activity_type__code", flat=True))
    assert per_type, "Ava's forum activity earns community points"
    assert len(per_type) == len(set(per_type)), "one auto-tracked contribution per member and type"
