from datetime import UTC, datetime

import pytest

from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_times_are_shown_in_the_members_own_time_zone(client, member):
    opportunity = OpportunityFactory(starts_at=datetime(2026, 12, 13, 9, 0, tzinfo=UTC))
    client.force_login(member)
    assert "09:00" in client.get(opportunity.get_absolute_url()).content.decode()

    member.time_zone = "Europe/Paris"
    member.save()
    html = client.get(opportunity.get_absolute_url()).content.decode()
    assert "10:00" in html
    assert "Europe/Paris" in html


def test_an_anonymous_page_after_a_member_request_is_back_in_utc(client, member):
    member.time_zone = "Asia/Tokyo"
    member.save()
    client.force_login(member)
    client.get("/")
    from django.utils import timezone

    assert timezone.get_current_timezone_name() == "UTC"
