"""The browse page's cards come from a cache keyed by everything they show: the same page as a fresh
render, and a changed row (a sign-up taking a slot, a new title) is never served from an older entry."""

import pytest
from django.core.cache import cache

from engagements.models import Opportunity
from tests.factories import OpportunityFactory, SignUpFactory

pytestmark = pytest.mark.django_db


def _cards(client) -> str:
    html = client.get("/engagements/").content.decode()
    return html[html.index('<ul class="opportunity-grid"') : html.index("</ul>", html.index("opportunity-grid"))]


def test_cached_cards_are_the_fresh_ones_and_follow_every_change(client, member):
    client.force_login(member)
    opportunity = OpportunityFactory(capacity=3, title="Zebra workshop")
    cache.clear()
    fresh = _cards(client)
    assert "3 of 3 left" in fresh and "Zebra workshop" in fresh
    assert _cards(client) == fresh  # served from the cache: the same HTML
    SignUpFactory(opportunity=opportunity)
    assert "2 of 3 left" in _cards(client)
    SignUpFactory(opportunity=opportunity, member=member)
    assert "You:" in _cards(client)
    Opportunity.objects.filter(pk=opportunity.pk).update(title="Give a talk")  # a write no service made
    after = _cards(client)
    assert "Give a talk" in after and "Zebra workshop" not in after
    cache.clear()
    assert _cards(client) == after  # and a cold render agrees with the cached one
