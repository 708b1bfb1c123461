"""The Discourse connector against a stand-in forum built from Discourse's source (discourse_fake.py).

One test per finding of issue 12; the truth each compares with is computed from the forum's own
rows (discourse_truth.py), never from the connector.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from community_levels import services
from community_levels.models import ActivityEvent, CommunityMember, CommunitySource
from community_levels.rules import load_rules
from tests.community_levels import discourse_fake as fake
from tests.community_levels.discourse_fake import ADMIN_KEY, MODERATOR_KEY, FakeDiscourse
from tests.community_levels.discourse_truth import build_forum, truth
from tests.factories import CommunitySourceFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime.now(UTC)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def forum(settings):
    settings.COMMUNITY_CONNECTOR_BACKOFF_SECONDS = 0.01
    settings.COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE = 0  # the stand-in's own limit is what tests set
    state = FakeDiscourse(rate_limit=10**6)
    server = fake.start(state)
    yield state
    fake.stop(state, server)


def small_forum(forum: FakeDiscourse) -> None:
    """alice writes, bob likes alice's post, carol reads."""
    joined = NOW - timedelta(days=30)
    forum.add_user(1, "forum_admin", created_at=joined - timedelta(days=100), admin=True)
    forum.api_users[ADMIN_KEY] = "forum_admin"
    forum.add_user(2, "alice", created_at=joined, email="alice@example.org")
    forum.add_user(3, "bob", created_at=joined + timedelta(days=1), email="bob@example.org")
    forum.add_user(4, "carol", created_at=joined + timedelta(days=2), email="carol@example.org")
    topic = forum.add_topic(2)
    forum.alice_topic = forum.add_post(topic, 2, joined + timedelta(days=3))
    forum.bob_reply = forum.add_post(topic, 3, joined + timedelta(days=4))
    forum.add_like(forum.alice_topic, 3, joined + timedelta(days=5))
    forum.add_like(forum.alice_topic, 4, joined + timedelta(days=6))


def make_source(forum: FakeDiscourse, **extra) -> CommunitySource:
    values = {"base_url": forum.url, "api_key": ADMIN_KEY, "api_username": "forum_admin", "slug": "forum"}
    values.update(extra)
    return CommunitySourceFactory(**values)


def member(uid: int, slug: str = "forum") -> CommunityMember:
    """The member for a Discourse user id: `<slug>:<id>` (plain ids are how the old connector stored them)."""
    found = CommunityMember.objects.filter(external_id__in=[f"{slug}:{uid}", str(uid)]).first()
    assert found is not None, f"no member for Discourse user {uid}"
    return found


def metrics_after_recompute() -> None:
    services.recompute(full=True, reason="test")


def settled_day():
    from community_levels.connectors.discourse import last_settled_day

    return last_settled_day()


def assert_metrics_equal_truth(forum: FakeDiscourse) -> None:
    metrics_after_recompute()
    expected = truth(forum, likes_cap=load_rules().caps.get("likes_given"), through=settled_day())
    wrong = {}
    for uid, values in expected.items():
        got = member(uid).metric_values()
        if got != values:
            wrong[uid] = {k: (got[k], v) for k, v in values.items() if got[k] != v}
    assert not wrong, f"{len(wrong)} of {len(expected)} members differ (got, truth), e.g. {list(wrong.items())[:3]}"


# --- Finding 1: attribution ---------------------------------------------------------------------


def test_1_likes_given_are_credited_to_the_member_who_liked(forum):
    small_forum(forum)
    services.source_sync(source_id=make_source(forum).pk)
    metrics_after_recompute()
    alice, bob, carol = member(2), member(3), member(4)
    assert (bob.m_likes_given, carol.m_likes_given, alice.m_likes_given) == (1, 1, 0)
    assert (alice.m_likes_received, bob.m_likes_received) == (2, 0)
    given = ActivityEvent.objects.get(member=bob, kind="like_given")
    assert given.target_member_id == alice.external_id and not given.is_self_like


# --- Finding 2: forums past the directory's page cap --------------------------------------------


def test_2_a_forum_of_700_members_is_read_completely(forum):
    build_forum(forum, members=700)
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is True, source.last_error
    alive = [u for u in forum.users if not u.deleted and u.id > 0]
    assert CommunityMember.objects.filter(events__kind="joined").distinct().count() == len(alive) == 700


# --- Finding 3: visits on their days, joined from created_at -------------------------------------


def test_3_visits_are_dated_on_their_days_and_membership_starts_when_the_member_joined(forum):
    small_forum(forum)
    first, second = (NOW - timedelta(days=20)).date(), (NOW - timedelta(days=9)).date()
    forum.add_visit(4, first, posts_read=7, time_read=130)
    forum.add_visit(4, second, posts_read=3, time_read=50)
    forum.add_visit(4, NOW.date(), posts_read=1, time_read=600)  # today is not over: read tomorrow
    services.source_sync(source_id=make_source(forum).pk)
    metrics_after_recompute()
    carol = member(4)
    visits = sorted(e.occurred_at.date() for e in ActivityEvent.objects.filter(member=carol, kind="visit"))
    assert visits == [first, second]
    joined = ActivityEvent.objects.get(member=carol, kind="joined")
    created = forum.user(4).created_at.date()
    assert joined.occurred_at.date() == created
    assert carol.m_member_days == (second - created).days + 1
    assert carol.m_days_visited == 3 + 1  # joined day, two visits, the day carol liked
    assert (carol.m_pages_read, carol.m_reading_minutes) == (10, 3)  # 180 seconds, not 2 + 0 minutes


# --- Finding 4: failures fail the run and say what to do; nothing is skipped --------------------


def test_4_a_non_admin_api_user_fails_the_run_with_what_to_do_and_nothing_is_skipped(forum):
    small_forum(forum)
    forum.add_user(9, "mod", created_at=NOW - timedelta(days=99), moderator=True)
    forum.api_users[MODERATOR_KEY] = "mod"
    source = make_source(forum, api_key=MODERATOR_KEY, api_username="mod")
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is False
    assert "not an admin" in source.last_error and "'mod'" in source.last_error
    assert source.watermark is None
    # The admin fixes the key: everything is read, nothing was skipped by the failed run.
    CommunitySource.objects.filter(pk=source.pk).update(api_key=ADMIN_KEY, api_username="forum_admin")
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is True, source.last_error
    assert ActivityEvent.objects.filter(kind="reply").count() == 1
    assert ActivityEvent.objects.filter(kind="like_given").count() == 2


def test_4_a_key_missing_from_the_worker_environment_fails_the_run_and_names_the_variable(forum, monkeypatch):
    small_forum(forum)
    monkeypatch.delenv("FORUM_KEY", raising=False)
    source = make_source(forum, api_key="", api_key_env="FORUM_KEY")
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is False
    assert "FORUM_KEY" in source.last_error and "worker" in source.last_error
    assert forum.requests == []  # no anonymous requests
    monkeypatch.setenv("FORUM_KEY", ADMIN_KEY)
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is True, source.last_error
    assert ActivityEvent.objects.filter(kind="reply").count() == 1


def test_4_celery_soft_time_limit_is_recorded_and_raised_and_the_next_run_resumes(forum, monkeypatch, settings):
    from celery.exceptions import SoftTimeLimitExceeded

    from community_levels.connectors.base import HttpClient
    from community_levels.models import SourceRun

    settings.COMMUNITY_DISCOURSE_PAGE_SIZE = 50
    build_forum(forum, members=120)
    source = make_source(forum)
    real_send = HttpClient._send
    calls = {"n": 0}

    def send(self, method, path, **kwargs):
        calls["n"] += 1
        if calls["n"] == 12:
            raise SoftTimeLimitExceeded()
        return real_send(self, method, path, **kwargs)

    monkeypatch.setattr(HttpClient, "_send", send)
    with pytest.raises(SoftTimeLimitExceeded):
        services.source_sync(source_id=source.pk)
    run = SourceRun.objects.get(source=source)
    assert run.state == SourceRun.State.FAILED and "time limit" in run.message
    assert run.imported == ActivityEvent.objects.filter(source="forum").count() > 0
    source.refresh_from_db()
    assert source.watermark is None and source.last_run_ok is False
    monkeypatch.setattr(HttpClient, "_send", real_send)
    services.source_sync(source_id=source.pk)
    assert_metrics_equal_truth(forum)


def test_4_a_member_renamed_between_runs_keeps_their_history_under_the_new_name(forum):
    small_forum(forum)
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    forum.rename(2, "alice_renamed")
    topic = forum.add_topic(3)
    forum.add_post(topic, 3, NOW - timedelta(hours=2))
    forum.add_post(topic, 2, NOW - timedelta(hours=1))
    services.source_sync(source_id=source.pk)
    alice = member(2)
    assert alice.username == "alice_renamed"
    assert ActivityEvent.objects.filter(member=alice, kind__in=["post", "reply"]).count() == 2


def test_4_admin_resets_a_cursor_after_confirmation_and_history_records_who(forum, client, admin_user):
    from community_levels.models import SourceRun

    small_forum(forum)
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.watermark is not None and source.cursor
    client.force_login(admin_user)
    url = "/admin/community_levels/communitysource/"
    page = client.post(url, {"action": "reset_cursors", "_selected_action": [source.pk]})
    assert page.status_code == 200 and "Yes, reset the cursor" in page.content.decode()
    source.refresh_from_db()
    assert source.cursor  # nothing happens before the confirmation
    done = client.post(url, {"action": "reset_cursors", "_selected_action": [source.pk], "confirm": "yes"})
    assert done.status_code == 302
    source.refresh_from_db()
    assert source.cursor == {} and source.watermark is None
    assert source.history.first().history_user == admin_user
    before = ActivityEvent.objects.count()
    services.source_sync(source_id=source.pk)
    assert ActivityEvent.objects.count() == before  # read again, nothing counted twice
    assert SourceRun.objects.filter(source=source).count() == 2
    change = client.get(f"{url}{source.pk}/change/")
    assert change.status_code == 200 and "Succeeded" in change.content.decode()


# --- Finding 5: counts are what was written; killed runs are visible and resume; one pull at a time


def test_5_a_run_failing_half_way_reports_what_it_wrote_and_the_next_run_loses_nothing(forum, settings):
    from community_levels.models import SourceRun

    settings.COMMUNITY_DISCOURSE_PAGE_SIZE = 100
    settings.COMMUNITY_CONNECTOR_MAX_ATTEMPTS = 2
    build_forum(forum, members=150)
    source = make_source(forum)
    # the likes stream fails for good after posts were written
    forum.fail_next = [("/admin/plugins/explorer/queries/2/run", 500), ("/admin/plugins/explorer/queries/2/run", 500)]
    result = services.source_sync(source_id=source.pk)
    run = SourceRun.objects.get(pk=result.run_id)
    written = ActivityEvent.objects.filter(source="forum").count()
    assert run.state == SourceRun.State.FAILED and "500" in run.message
    assert result.imported == run.imported == written > 0
    source.refresh_from_db()
    assert (source.last_run_imported, source.last_run_ok, source.watermark) == (written, False, None)
    assert source.cursor["posts"]["after_id"] > 0 and "likes" not in source.cursor
    services.source_sync(source_id=source.pk)
    assert_metrics_equal_truth(forum)


@pytest.mark.django_db(transaction=True)
def test_5_two_pulls_of_one_source_never_overlap(forum):
    from community_levels.models import SourceRun

    small_forum(forum)
    source = make_source(forum)
    holder_ready, release = threading.Event(), threading.Event()

    def hold_the_lock():
        from django.db import connection as thread_connection

        with thread_connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s), %s)", [services.SOURCE_LOCK_NAMESPACE, source.pk])
            holder_ready.set()
            release.wait(10)
            cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [services.SOURCE_LOCK_NAMESPACE, source.pk])
        thread_connection.close()

    thread = threading.Thread(target=hold_the_lock)
    thread.start()
    holder_ready.wait(10)
    try:
        result = services.source_sync(source_id=source.pk)
    finally:
        release.set()
        thread.join()
    assert result.state == "busy" and forum.requests == []
    assert not SourceRun.objects.exists()
    assert services.source_sync(source_id=source.pk).state == SourceRun.State.SUCCEEDED


def _start_pull_process(source_id: int, env_extra: dict) -> subprocess.Popen:
    settings_dict = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mahome.settings.test",
        "DATABASE_URL": f"postgres://{settings_dict.get('USER') or 'postgres'}@"
        f"{settings_dict.get('HOST') or '127.0.0.1'}:{settings_dict.get('PORT') or 5432}/{settings_dict['NAME']}",
        **env_extra,
    }
    code = (
        "import django; django.setup(); from community_levels import services; "
        f"services.source_sync(source_id={source_id})"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env)


def _wait_for_the_source_lock_to_go(source_id: int, timeout: float = 15.0) -> None:
    """PostgreSQL ends a killed client's session (and its advisory lock) once it sees the socket
    closed, which on a loaded machine can take a moment after the process is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 AND objid = %s)",
                [source_id],
            )
            if not cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError(f"the killed pull's lock on source {source_id} is still held after {timeout} s")


@pytest.mark.django_db(transaction=True)
def test_5_a_killed_pull_of_a_700_member_forum_is_visible_resumes_and_equals_the_truth(forum):
    """The acceptance test of issue 12: 700+ members, a worker killed mid-pull (SIGKILL, no
    cleanup), the run visible as interrupted, the next run resuming, every member's metrics equal
    to the truth computed from the forum's rows."""
    from community_levels.models import SourceRun

    build_forum(forum, members=720)
    forum.delay = 0.02
    source = make_source(forum)
    child = _start_pull_process(
        source.pk,
        {"COMMUNITY_DISCOURSE_PAGE_SIZE": "200", "COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE": "0"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = SourceRun.objects.filter(source=source).first()
        if run and run.imported > 3000:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    _wait_for_the_source_lock_to_go(source.pk)
    killed = SourceRun.objects.get(source=source)
    assert killed.state == SourceRun.State.RUNNING and killed.finished_at is None  # the worker left no trace itself
    stored = ActivityEvent.objects.filter(source="forum").count()
    assert stored >= killed.imported > 3000
    forum.delay = 0
    result = services.source_sync(source_id=source.pk)
    killed.refresh_from_db()
    assert killed.state == SourceRun.State.INTERRUPTED and "stopped" in killed.message
    assert result.state == SourceRun.State.SUCCEEDED and result.caught_up
    assert ActivityEvent.objects.filter(source="forum").count() == stored + result.imported
    assert_metrics_equal_truth(forum)


# --- Finding 6: requests fit Discourse's limit ---------------------------------------------------


def _requests_of_a_run_with_nothing_new(forum: FakeDiscourse, members: int) -> tuple[int, int]:
    build_forum(forum, members=members, seed=members)
    source = make_source(forum, slug=f"forum{members}")
    services.source_sync(source_id=source.pk)
    first = len(forum.requests)
    forum.requests.clear()
    services.source_sync(source_id=source.pk)
    return first, len(forum.requests)


def test_6_a_run_with_nothing_new_costs_the_same_few_requests_for_100_or_700_members(settings):
    settings.COMMUNITY_CONNECTOR_BACKOFF_SECONDS = 0.01
    settings.COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE = 0
    counts = {}
    for members in (100, 700):
        state = FakeDiscourse(rate_limit=10**6)
        server = fake.start(state)
        try:
            counts[members] = _requests_of_a_run_with_nothing_new(state, members)
        finally:
            fake.stop(state, server)
    (first_100, again_100), (first_700, again_700) = counts[100], counts[700]
    assert again_100 == again_700 <= 5, counts
    # members / 100 pages of the user list + rows / 1000 Data Explorer pages, not 2 requests per member
    assert first_700 < 700 / 10, counts
    print(f"\nrequests: first pull 100 members={first_100}, 700 members={first_700}; nothing new: {again_700}")


def test_6_the_connector_paces_itself_under_the_forums_limit(forum, settings):
    small_forum(forum)
    forum.rate_limit, forum.rate_window = 5, 1.0
    settings.COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE = 240  # 4 a second against a limit of 5 a second
    services.source_sync(source_id=make_source(forum).pk)
    assert forum.rate_limited == 0 and len(forum.requests) >= 8


def test_6_a_429_is_waited_out_as_retry_after_says(forum):
    small_forum(forum)
    forum.rate_limit, forum.rate_window = 3, 1.0
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert forum.rate_limited > 0
    assert source.last_run_ok is True, source.last_error
    assert ActivityEvent.objects.filter(kind="like_given").count() == 2


# --- Finding 7: members carry their email and are linked to MA accounts --------------------------


def test_7_forum_members_are_linked_to_ma_accounts_by_email_and_replies_become_contributions(forum):
    from contributions.models import Contribution
    from tests.factories import ActivityTypeFactory, ProgramYearFactory

    small_forum(forum)
    year = ProgramYearFactory(
        year=NOW.year, opens_on=(NOW - timedelta(days=200)).date(), deadline=(NOW + timedelta(days=100)).date()
    )
    ActivityTypeFactory(program_year=year, code="community-replies", tracking="community", points=2, annual_cap=20)
    bob_ma = UserFactory(email="Bob@Example.org")
    services.source_sync(source_id=make_source(forum).pk)
    bob = member(3)
    assert bob.email == "bob@example.org" and bob.user == bob_ma
    metrics_after_recompute()
    assert Contribution.objects.filter(member=bob_ma, activity_type__code="community-replies").exists()


# --- Finding 8: the smaller ones -----------------------------------------------------------------


def test_8_deleted_posts_private_messages_and_deleted_users_are_not_counted_and_not_errors(forum):
    small_forum(forum)
    topic = forum.add_topic(2)
    forum.add_post(topic, 2, NOW - timedelta(days=3), deleted_at=NOW - timedelta(days=2))
    pm = forum.add_topic(2, archetype="private_message")
    forum.add_post(pm, 2, NOW - timedelta(days=3))
    forum.add_post(pm, 3, NOW - timedelta(days=3))
    forum.add_user(5, "gone", created_at=NOW - timedelta(days=9))
    forum.add_post(topic, 5, NOW - timedelta(days=2))
    forum.user(5).deleted = True
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert (source.last_run_ok, source.last_run_errors) == (True, 0), source.last_error
    assert ActivityEvent.objects.filter(kind__in=["post", "reply"]).count() == 2  # alice's topic, bob's reply
    assert not CommunityMember.objects.filter(username="gone").exists()


def test_8_solutions_are_credited_to_the_answer_once_and_legacy_rows_without_a_post_count(forum):
    small_forum(forum)
    forum.add_solution(forum.bob_reply, 2, NOW - timedelta(days=2))
    forum.add_solution(forum.bob_reply, 2, NOW - timedelta(days=1))  # unaccepted and accepted again
    other = forum.add_post(forum.add_topic(2), 3, NOW - timedelta(days=5))
    forum.add_solution(other, 2, NOW - timedelta(days=4), legacy=True)
    forum.add_solution(other, 2, NOW - timedelta(days=3), legacy=True)
    services.source_sync(source_id=make_source(forum).pk)
    metrics_after_recompute()
    assert (member(3).m_accepted_solutions, member(2).m_accepted_solutions) == (3, 0)


def test_8_a_reply_approved_late_from_the_review_queue_is_imported(forum):
    small_forum(forum)
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    # approved now; Discourse keeps the post's original time, before the last run
    forum.add_post(forum.topics[0], 4, NOW - timedelta(days=2))
    services.source_sync(source_id=source.pk)
    assert ActivityEvent.objects.filter(member=member(4), kind="reply").count() == 1


def test_8_two_sources_with_the_same_user_ids_are_different_members(forum):
    small_forum(forum)
    services.source_sync(source_id=make_source(forum, slug="forum").pk)
    services.source_sync(source_id=make_source(forum, slug="partners", name="Partner forum").pk)
    assert member(2, "forum") != member(2, "partners")
    assert CommunityMember.objects.filter(username="alice").count() == 2


def test_8_the_stand_in_refuses_pages_past_the_directory_cap_like_discourse():
    """The stand-in itself: page 11 of /directory_items.json is a 400, as PAGE_LIMIT = 10 says."""
    import requests

    state = FakeDiscourse(rate_limit=10**6)
    state.api_users[ADMIN_KEY] = "forum_admin"
    state.add_user(1, "forum_admin", created_at=NOW, admin=True)
    server = fake.start(state)
    try:
        headers = {"Api-Key": ADMIN_KEY, "Api-Username": "forum_admin"}
        ok = requests.get(
            f"{state.url}/directory_items.json", {"period": "all", "page": 10}, headers=headers, timeout=5
        )
        refused = requests.get(
            f"{state.url}/directory_items.json", {"period": "all", "page": 11}, headers=headers, timeout=5
        )
    finally:
        fake.stop(state, server)
    assert ok.status_code == 200 and isinstance(ok.json()["meta"]["load_more_directory_items"], str)
    assert refused.status_code == 400 and json.loads(refused.content)["error_type"] == "invalid_parameters"


def test_joined_times_keep_milliseconds_and_zone(forum):
    small_forum(forum)
    services.source_sync(source_id=make_source(forum).pk)
    joined = ActivityEvent.objects.get(member=member(2), kind="joined")
    assert joined.occurred_at.tzinfo is not None
    assert abs(joined.occurred_at - forum.user(2).created_at) < timedelta(milliseconds=1)
    assert timezone.is_aware(joined.occurred_at)


def test_8_sparse_solutions_are_read_in_bounded_scans_of_user_actions(forum, settings):
    """The plugin stops any query after 10 seconds: solutions are found in bounded id ranges."""
    settings.COMMUNITY_DISCOURSE_SOLUTIONS_SCAN = 25
    small_forum(forum)
    topic = forum.add_topic(2)
    answers = [forum.add_post(topic, 3 + n % 2, NOW - timedelta(days=9 - n)) for n in range(7)]
    for n, answer in enumerate(answers):
        forum.add_solution(answer, 2, NOW - timedelta(days=8 - n))
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    runs = [q for m, path, q in forum.requests if path == "/admin/plugins/explorer/queries/3/run"]
    assert len(runs) == 3  # ids 10..70 in ranges of 25
    metrics_after_recompute()
    assert (member(3).m_accepted_solutions, member(4).m_accepted_solutions) == (4, 3)
    forum.requests.clear()
    services.source_sync(source_id=source.pk)
    assert len([1 for m, path, q in forum.requests if path == "/admin/plugins/explorer/queries/3/run"]) == 1


def test_8_posts_deleted_and_likes_undone_after_a_pull_are_taken_back(forum):
    """Deleted after they were read: the events stay, marked revoked with the reason, and the
    member's metrics drop to what the forum now holds."""
    build_forum(forum, members=60, seed=8)
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    when = datetime.now(UTC)
    liked = [like for like in forum.likes if like.deleted_at is None][:5]
    for like in liked:
        like.deleted_at = when
    replies = [p for p in forum.posts if p.post_number > 1 and p.deleted_at is None][:6]
    for post in replies:
        post.deleted_at = when
    topic = next(t for t in forum.topics if t.deleted_at is None and t.archetype == "regular")
    topic.deleted_at = when
    forum.dirty = True
    services.source_sync(source_id=source.pk)
    assert_metrics_equal_truth(forum)
    revoked = ActivityEvent.objects.get(source="forum", event_id=f"post:{replies[0].id}")
    assert revoked.revoked_at is not None and "deleted" in revoked.revoked_reason


def test_4_an_unknown_api_key_fails_the_run_with_what_to_do_and_keeps_the_watermark(forum):
    """lib/auth/default_current_user_provider.rb refuses a key it does not know with 403."""
    small_forum(forum)
    source = make_source(forum, api_key="revoked-key")
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is False and source.watermark is None
    assert "403" in source.last_error and "admin user" in source.last_error
    assert not ActivityEvent.objects.exists()


def test_members_joining_between_runs_are_read_newest_first_across_pages(forum):
    small_forum(forum)
    source = make_source(forum)
    services.source_sync(source_id=source.pk)
    for uid in range(100, 350):
        forum.add_user(uid, f"newcomer_{uid}", created_at=NOW - timedelta(minutes=400 - uid))
    forum.requests.clear()
    services.source_sync(source_id=source.pk)
    pages = [q["page"] for m, path, q in forum.requests if path == "/admin/users/list/active.json"]
    assert pages == ["1", "2", "3"]  # 250 new members, newest first, until a known one
    assert CommunityMember.objects.filter(events__kind="joined").count() == 4 + 250
    forum.requests.clear()
    services.source_sync(source_id=source.pk)
    assert [q["page"] for m, path, q in forum.requests if path == "/admin/users/list/active.json"] == ["1"]
