"""The community page's cached body (community_levels/me_cache.py) is never stale, and a hit is cheap (issue 16).

A scenario of writes (activity ingested and recomputed, identities linked and unlinked, the rules edited
through the ORM and in bulk) walks the member's page; after every step the body served through the cache
must equal a render that bypasses it, and must have changed.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from community_levels import me_cache
from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import CommunityMember, Level, LevelChange, LevelRequirement, ScoringWeight
from community_levels.recompute import levels_recompute
from community_levels.selectors import member_standing
from mahome import page_cache
from tests.community_levels.helpers import event, write_jsonl
from tests.factories import CommunityMemberFactory, NotificationFactory, UserFactory
from tests.page_cache_walk import CachedPageWalk

# Transactional: the view runs in autocommit, and inside a transaction the cache is not used at all.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = timezone.make_aware(datetime(2026, 6, 15, 10, 0))


@pytest.fixture(autouse=True)
def _empty_cache():
    caches[page_cache.CACHE_ALIAS].clear()
    yield
    caches[page_cache.CACHE_ALIAS].clear()


def _request(user_id: int):
    request = RequestFactory().get("/community/me/")
    request.user = User.objects.get(pk=user_id)  # as the authentication middleware reads it, each request
    return request


def _body(user_id: int, *, use_cache: bool, request=None) -> str:
    return me_cache.body(request=request or _request(user_id), use_cache=use_cache)


def page_walk(user_id: int) -> CachedPageWalk:
    """The user's community page walk."""
    return CachedPageWalk(lambda _key, **kwargs: _body(user_id, **kwargs), lambda _key: _request(user_id))


def _ingest(tmp_path, events, name):
    ingest_stream(parse_file(write_jsonl(tmp_path / name, events)), source="file")
    levels_recompute()


def test_every_write_refreshes_the_cached_page(tmp_path):
    with time_machine.travel(NOW, tick=False):
        user = UserFactory(email="ava@example.com")
        walk = page_walk(user.pk)
        assert walk.check("no community identity", changes=False) == ""

        _ingest(tmp_path, [event(1, "ava", "reply", quantity=30, email="ava@example.com")], "1.jsonl")
        assert "Community profile: ava" in walk.check("activity linked the identity and placed it")
        _ingest(tmp_path, [event(2, "ava", "accepted_solution", quantity=3)], "2.jsonl")
        walk.check("more activity: a new level and a history row")
        member = CommunityMember.objects.get(user=user)
        CommunityMember.objects.filter(pk=member.pk).update(m_replies=31)
        walk.check("metrics written in bulk")
        CommunityMember.objects.filter(pk=member.pk).update(username="ava-renamed")
        walk.check("username")

        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {LevelChange._meta.db_table} SET reason = %s WHERE member_id = %s",
                ["Corrected by staff", member.pk],
            )
        walk.check("history rewritten by SQL")

        level = Level.objects.get(pk=member.level_id)
        Level.objects.filter(pk=level.pk).update(name="Renamed level")
        walk.check("the member's level renamed")
        ScoringWeight.objects.filter(metric="replies").update(weight=7)
        walk.check("a scoring weight")
        following = member_standing(member=CommunityMember.objects.get(pk=member.pk)).next_level
        requirement = LevelRequirement.objects.create(level_id=following.id, metric="articles", minimum=99)
        walk.check("a requirement of the next level added")
        LevelRequirement.objects.filter(pk=requirement.pk).update(minimum=98)
        walk.check("the requirement changed")
        Level.objects.filter(pk=level.pk).update(boss_program_eligible=True)
        walk.check("the level opens the Boss program")

        other = CommunityMemberFactory(user=user, level=Level.objects.order_by("-rank").first())
        walk.check("a second, more advanced identity linked")
        CommunityMember.objects.filter(pk=other.pk).update(user=None)
        walk.check("unlinked again")
        CommunityMember.objects.filter(pk=member.pk).update(user=None)
        assert walk.check("no identity left") == ""

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        CommunityMember.objects.filter(pk=member.pk).update(user=user)
        walk.check("linked back, another day")
        with timezone.override("Pacific/Kiritimati"):  # UTC+14: the history's dates move a day
            assert _body(user.pk, use_cache=True) == _body(user.pk, use_cache=False)


def test_the_page_is_the_body_in_the_site_layout(client, tmp_path):
    user = UserFactory(email="ava@example.com")
    _ingest(tmp_path, [event(1, "ava", "reply", quantity=30, email="ava@example.com")], "1.jsonl")
    client.force_login(user)
    html = client.get("/community/me/").content.decode()
    body = _body(user.pk, use_cache=False)
    assert body and body in html
    assert "<title>My community level · MA Home</title>" in html


def test_a_hit_costs_the_queries_of_the_trivial_page(client, tmp_path):
    """Session, user, and the fingerprint, which reads the header's unread count in the same round trip."""
    user = UserFactory(email="ava@example.com")
    _ingest(tmp_path, [event(1, "ava", "reply", quantity=30, email="ava@example.com")], "1.jsonl")
    NotificationFactory.create_batch(2, user=user)
    client.force_login(user)
    client.get("/notifications/")
    with CaptureQueriesContext(connection) as trivial:
        assert client.get("/notifications/").status_code == 200
    client.get("/community/me/")
    with CaptureQueriesContext(connection) as hit:
        response = client.get("/community/me/")
    assert "Community profile: ava" in response.content.decode()
    assert len(hit.captured_queries) <= len(trivial.captured_queries)
    assert "Notifications: 2 unread" in response.content.decode()
    NotificationFactory(user=user)
    assert "Notifications: 3 unread" in client.get("/community/me/").content.decode()
