"""The opportunities list's cached body (engagements/list_cache.py) is never stale, and a hit is cheap (issue 16).

A scenario of writes (staff publish, edit, cancel; other members take slots; the member signs up and
withdraws; the clock) walks several query strings (filters, pages); after every step the body served
through the cache must equal a render that bypasses it, and must have changed.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from contributions.models import ActivityType
from engagements import list_cache
from engagements.models import Opportunity
from engagements.services.opportunities import opportunity_cancel, opportunity_set_state, opportunity_update
from engagements.services.signups import signup_create, signup_withdraw
from mahome import page_cache
from tests.factories import NotificationFactory, OpportunityFactory, StaffFactory, UserFactory
from tests.page_cache_walk import CachedPageWalk

pytestmark = pytest.mark.django_db(transaction=True)

NOW = timezone.make_aware(datetime(2026, 6, 15, 10, 0))
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture(autouse=True)
def _empty_cache():
    caches[page_cache.CACHE_ALIAS].clear()
    yield
    caches[page_cache.CACHE_ALIAS].clear()


def _request(member_id: int, query: str):
    request = RequestFactory().get("/engagements/" + query)
    request.user = User.objects.get(pk=member_id)  # as the authentication middleware reads it, each request
    return request


def _body(member_id: int, query: str, *, use_cache: bool, request=None) -> str:
    request = request or _request(member_id, query)
    html = list_cache.body(request=request, use_cache=use_cache)
    return TOKEN.sub("", html)


def list_walk(member_id: int) -> CachedPageWalk:
    """The member's opportunities list walk, one page per query string."""
    return CachedPageWalk(
        lambda query, **kwargs: _body(member_id, query, **kwargs), lambda query: _request(member_id, query)
    )


def test_every_write_and_the_clock_refresh_the_cached_list():
    with time_machine.travel(NOW, tick=False):
        staff = StaffFactory(is_superuser=True)
        member = UserFactory(first_name="Ada")
        first = OpportunityFactory(title="Polaris webinar", capacity=2, starts_at=NOW + timedelta(days=3))
        walk = list_walk(member.pk)
        for query in ("", "?open_slots=on", "?category=speaking"):
            walk.check("start", query, changes=False)

        draft = OpportunityFactory(title="Talk at a meetup", category="speaking", state=Opportunity.State.DRAFT)
        walk.check("a draft is invisible", "?category=speaking", changes=False)
        opportunity_set_state(opportunity_id=draft.pk, actor=staff, state=Opportunity.State.PUBLISHED)
        walk.check("published", "?category=speaking")
        walk.check("published", "")
        opportunity_update(opportunity_id=first.pk, actor=staff, changes={"title": "Polaris deep dive"})
        walk.check("edited", "")
        Opportunity.objects.filter(pk=first.pk).update(location="Berlin")  # bulk, no signal
        walk.check("edited in bulk", "")

        signup_create(opportunity_id=first.pk, member=UserFactory())
        walk.check("another member took a slot", "")
        signup_create(opportunity_id=first.pk, member=UserFactory())
        walk.check("the last slot taken", "")
        walk.check("the last slot taken: no open slots", "?open_slots=on")
        mine, _ = signup_create(opportunity_id=draft.pk, member=member)
        walk.check("own sign-up", "?category=speaking")
        signup_withdraw(signup_id=mine.pk, member=member)
        walk.check("own withdrawal", "?category=speaking")

        ActivityType.objects.filter(pk=draft.activity_type_id).update(points=Decimal(77))
        Opportunity.objects.filter(pk=draft.pk).update(points=None)
        walk.check("credited points from the activity type", "?category=speaking")

        OpportunityFactory.create_batch(20, title="Later", starts_at=NOW + timedelta(days=60))
        walk.check("a second page", "?page=2", changes=False)
        Opportunity.objects.filter(title="Later").order_by("pk").first().delete()
        walk.check("a row of the second page removed", "?page=2")

        opportunity_cancel(opportunity_id=draft.pk, actor=staff, reason="Speaker ill")
        walk.check("cancelled", "?category=speaking")
        Opportunity.objects.filter(pk=first.pk).update(signup_closes_at=NOW + timedelta(hours=2))
        walk.check("sign-up deadline set", "")

    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        walk.check("sign-ups closed by the clock, same day", "")  # nothing was written
    with time_machine.travel(NOW + timedelta(days=4), tick=False):
        walk.check("next days: the webinar has started", "?open_slots=on", changes=False)
        walk.check("next days", "?date_from=2026-06-19")


def test_a_hit_costs_the_queries_of_the_trivial_page(client):
    """Session, user, and the fingerprint, which reads the header's unread count in the same round trip."""
    with time_machine.travel(NOW, tick=False):
        member = UserFactory(first_name="Ada")
        NotificationFactory.create_batch(2, user=member)
        OpportunityFactory.create_batch(3)
        client.force_login(member)
        client.get("/notifications/")
        with CaptureQueriesContext(connection) as trivial:
            assert client.get("/notifications/").status_code == 200
        client.get("/engagements/?open_slots=on")
        with CaptureQueriesContext(connection) as hit:
            response = client.get("/engagements/?open_slots=on")
        assert response.status_code == 200
        assert "Opportunity" in response.content.decode()
        assert len(hit.captured_queries) <= len(trivial.captured_queries)
        assert "Notifications: 2 unread" in response.content.decode()
        NotificationFactory(user=member)
        assert "Notifications: 3 unread" in client.get("/engagements/?open_slots=on").content.decode()


def test_a_page_past_the_end_is_not_stored():
    with time_machine.travel(NOW, tick=False):
        member = UserFactory()
        OpportunityFactory.create_batch(2)
        _body(member.pk, "?page=9", use_cache=True)
        request = _request(member.pk, "?page=9")
        with CaptureQueriesContext(connection) as queries:
            _body(member.pk, "?page=9", use_cache=True, request=request)
    assert len(queries.captured_queries) > 1


QUERIES = [
    "",
    "?page=2",
    "?page=abc",
    "?open_slots=on",
    "?open_slots=on&category=speaking&page=3",
    "?category=blog",
    "?category=nonsense",
    "?date_from=2026-06-19",
    "?date_from=2026-06-19&date_to=2026-07-01&open_slots=on",
    "?date_to=not-a-date",
    "?open_slots=false&unknown=1",
]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland"])
def test_the_fingerprint_compiled_once_is_the_fingerprint_of_the_request(zone):
    """Stand-ins put back: the very SQL and parameters the request's own queryset compiles to."""
    members = [UserFactory(), UserFactory()]
    OpportunityFactory.create_batch(3)
    with timezone.override(zone):
        for query in QUERIES:
            for member, now in zip(members, [NOW, NOW + timedelta(days=400, microseconds=7)], strict=True):
                request = _request(member.pk, query)
                page = _page(query)
                direct = list_cache.fingerprint_sql(
                    list_cache.filterset_for(data=request.GET, member=member, now=now), page=page
                )
                assert list_cache.fingerprint_query(request=request, now=now, page=page) == direct, query


def _page(query: str) -> int:
    from django.http import QueryDict

    from mahome.pagination import wanted_page

    return wanted_page(QueryDict(query.lstrip("?")).get("page"), list_cache.PAGE_SIZE)


def test_a_parameter_derived_from_the_clock_is_compiled_per_request(monkeypatch):
    """A query that uses the clock otherwise than as itself (here: a day before) is not reused with stand-ins."""
    from engagements import selectors

    original = selectors.opportunity_list

    def with_yesterday(*, member, now=None):
        return original(member=member, now=now).filter(created_at__gte=now - timedelta(days=1))

    monkeypatch.setattr(selectors, "opportunity_list", with_yesterday)
    list_cache._shape.cache_clear()
    try:
        member = UserFactory()
        request = _request(member.pk, "?category=blog")
        _, params = list_cache.fingerprint_query(request=request, now=NOW, page=1)
        assert NOW - timedelta(days=1) in params
        assert list_cache._shape("category=blog", 1, "en", "UTC") is None
    finally:
        list_cache._shape.cache_clear()


def test_a_hit_builds_no_queryset(monkeypatch):
    from engagements import selectors

    member = UserFactory()
    OpportunityFactory.create_batch(2)
    _body(member.pk, "?open_slots=on", use_cache=True)
    _body(member.pk, "?open_slots=on", use_cache=True)  # the stand-in query of this query string is compiled

    def refuse(**kwargs):
        raise AssertionError("the hit built the page's queryset")

    monkeypatch.setattr(selectors, "opportunity_list", refuse)
    assert "Opportunity" in _body(member.pk, "?open_slots=on", use_cache=True)
