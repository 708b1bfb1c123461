import json
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification, User
from community_levels import services
from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import CommunityMember, Level, LevelChange, ScoringWeight
from community_levels.recompute import levels_recompute
from community_levels.rules import load_rules, place
from contributions.models import ActivityType, Contribution
from tests.community_levels.helpers import event, write_jsonl
from tests.factories import ActivityTypeFactory, ProgramYearFactory, UserFactory

pytestmark = pytest.mark.django_db

LADDER = [
    "New Member",
    "Community Member",
    "Established Member",
    "Senior Member",
    "New Contributor",
    "General Contributor",
    "Reliable Contributor",
    "Respected Contributor",
    "Trusted Contributor",
    "Community Boss",
    "Certified Boss",
    "Insightful Boss",
    "Exceptional Boss",
    "Hyper Boss",
]


def ingest(tmp_path, events, name="a.jsonl"):
    return ingest_stream(parse_file(write_jsonl(tmp_path / name, events)), source="file")


def level_of(external_id: str) -> str:
    return CommunityMember.objects.select_related("level").get(external_id=external_id).level.name


def test_a_fresh_install_has_the_fourteen_levels_of_the_announcement_in_order():
    assert list(Level.objects.order_by("rank").values_list("name", flat=True)) == LADDER
    assert ScoringWeight.objects.count() == 12


def test_members_are_placed_on_the_passive_or_active_tier(tmp_path):
    events = [
        # reader: 30 visit days of 10 minutes -> passive 30*2 + span*0.2 + 300*0.2
        *[event(i, "reader", "visit", days=i, minutes=10) for i in range(30)],
        # contributor: 6 replies (24) -> General Contributor (>= 20)
        event(100, "helper", "reply", quantity=6),
        # a boss: 5 accepted solutions, score >= 900
        event(200, "boss", "accepted_solution", quantity=5),
        event(201, "boss", "article", quantity=42),
        # a like alone keeps you passive
        event(300, "liker", "like_given", target_member_id="helper"),
    ]
    ingest(tmp_path, events)
    result = levels_recompute()
    assert result.members == 4
    assert level_of("reader") == "Community Member"  # 60 + 5.8 + 60 = 125.8 (< 150)
    assert level_of("helper") == "General Contributor"
    assert level_of("boss") == "Community Boss"  # 75 + 840 = 915, 5 accepted solutions
    assert level_of("liker") == "New Member"
    assert list(result.levels) == LADDER
    assert result.levels["Community Boss"] == 1


def test_a_minimum_count_holds_a_member_back_whatever_the_score(tmp_path):
    ingest(tmp_path, [event(1, "writer", "article", quantity=100)])  # 2000 points, no accepted solution
    levels_recompute()
    assert level_of("writer") == "Trusted Contributor"


def test_incremental_recompute_takes_only_members_with_new_activity(tmp_path):
    ingest(tmp_path, [event(1, "a", "reply"), event(2, "b", "reply")])
    assert levels_recompute().members == 2
    assert levels_recompute().members == 0
    ingest(tmp_path, [event(3, "b", "reply", quantity=10)], name="b.jsonl")
    result = levels_recompute()
    assert (result.members, result.changed) == (1, 1)
    assert levels_recompute(full=True).members == 2


def test_a_full_recompute_writes_only_the_members_whose_values_change(tmp_path):
    ingest(tmp_path, [event(1, "a", "reply"), event(2, "b", "reply"), event(3, "c", "visit", minutes=5)])
    assert levels_recompute().written == 3
    again = levels_recompute(full=True)
    assert (again.members, again.written, again.changed) == (3, 0, 0)
    # A member whose stored metrics drifted is the only one written back, to the value of its activity.
    CommunityMember.objects.filter(external_id="b").update(m_replies=7)
    repaired = levels_recompute(full=True)
    assert (repaired.members, repaired.written, repaired.changed) == (3, 1, 0)
    assert CommunityMember.objects.get(external_id="b").m_replies == 1
    assert LevelChange.objects.filter(member__external_id="b").count() == 1


def _members(tmp_path, count: int, name: str):
    events = []
    for m in range(count):
        events += [
            event(f"{name}{m}-1", f"{name}{m}", "reply", quantity=m % 7 + 1, email=f"{name}{m}@example.org"),
            event(f"{name}{m}-2", f"{name}{m}", "visit", minutes=5, days=m % 5),
            event(f"{name}{m}-3", f"{name}{m}", "like_given", target_member_id="x", quantity=30),
        ]
    ingest(tmp_path, events, name=f"{name}.jsonl")


def test_recompute_runs_a_constant_number_of_statements_whatever_the_number_of_members(tmp_path):
    year = ProgramYearFactory(year=timezone.localdate().year)
    ActivityTypeFactory(program_year=year, code="community-replies", tracking="community", points=2, annual_cap=20)
    users = [UserFactory(email=f"s{m}@example.org") for m in range(3)] + [
        UserFactory(email=f"l{m}@example.org") for m in range(3)
    ]
    assert users
    _members(tmp_path, 10, "s")
    with CaptureQueriesContext(connection) as small:
        small_result = levels_recompute(full=True)
    _members(tmp_path, 200, "l")
    with CaptureQueriesContext(connection) as large:
        large_result = levels_recompute(full=True)
    assert small_result.members == 10
    assert large_result.members == 210
    assert len(large.captured_queries) == len(small.captured_queries)
    assert Contribution.objects.filter(source="community").count() == 6


def test_likes_given_count_at_most_the_daily_cap(tmp_path):
    ingest(
        tmp_path,
        [
            event(1, "m", "like_given", quantity=25, target_member_id="x"),
            event(2, "m", "like_given", quantity=4, target_member_id="y", days=1),
            event(3, "m", "reply"),
        ],
    )
    levels_recompute()
    assert CommunityMember.objects.get(external_id="m").m_likes_given == 14  # 10 (capped) + 4


def test_excluded_members_score_nothing_until_included_again(tmp_path, django_capture_on_commit_callbacks):
    ingest(tmp_path, [event(1, "spammer", "reply", quantity=500)])
    levels_recompute()
    member = CommunityMember.objects.get(external_id="spammer")
    assert member.level.name == "Trusted Contributor"
    with django_capture_on_commit_callbacks(execute=True):
        services.member_set_excluded(member=member, excluded=True)
    member.refresh_from_db()
    assert (member.level.name, member.active_score, member.m_replies) == ("New Member", 0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        services.member_set_excluded(member=member, excluded=False)
    assert level_of("spammer") == "Trusted Contributor"


def test_every_change_is_recorded_and_level_ups_notify_the_ma_once(tmp_path):
    user = UserFactory(email="ava@example.com")
    ingest(tmp_path, [event(1, "ava", "reply", email="ava@example.com")])
    levels_recompute()
    ingest(tmp_path, [event(2, "ava", "reply", quantity=10)], name="b.jsonl")
    result = levels_recompute()
    assert result.raised == 1
    history = list(LevelChange.objects.filter(member__external_id="ava").order_by("pk"))
    assert [(c.from_level and c.from_level.name, c.to_level.name) for c in history] == [
        (None, "New Contributor"),
        ("New Contributor", "General Contributor"),
    ]
    assert history[1].reason == "New community activity"
    notification = Notification.objects.get(user=user)
    assert notification.kind == "community.level_up"
    assert "General Contributor" in notification.title
    assert notification.url == "/community/me/"
    # going down and up again does not notify a second time for the same level
    levels_recompute(full=True)
    assert Notification.objects.filter(user=user).count() == 1


def test_a_rule_change_that_lowers_levels_says_so(tmp_path, django_capture_on_commit_callbacks):
    admin = UserFactory(email="paul@example.com", is_staff=True)
    user = UserFactory(email="ben@example.com")
    ingest(tmp_path, [event(1, "ben", "reply", quantity=10, email="ben@example.com")])
    levels_recompute()
    assert level_of("ben") == "General Contributor"
    general = Level.objects.get(name="General Contributor")
    with django_capture_on_commit_callbacks(execute=True):
        services.rules_save(changed_by=admin, level_scores={general.pk: Decimal(60)})
    assert level_of("ben") == "New Contributor"
    change = LevelChange.objects.filter(member__external_id="ben").latest("pk")
    assert change.reason.startswith("Level rules changed by paul@example.com")
    assert change.run.is_rule_change and change.run.lowered == 1
    notification = Notification.objects.get(user=user, kind="community.level_changed")
    assert "rules changed" in notification.title
    assert general.history.latest().min_score == 60  # the change is kept in history


def test_recompute_levels_command_prints_the_counts_in_ladder_order(tmp_path):
    ingest(tmp_path, [event(1, "a", "reply"), event(2, "b", "visit", minutes=3)])
    out = StringIO()
    call_command("recompute_levels", "--full", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["members"] == 2
    assert data["changed"] == 2
    assert list(data["levels"]) == LADDER
    assert data["levels"]["New Contributor"] == 1 and data["levels"]["New Member"] == 1


def test_sql_placement_agrees_with_the_python_rules(tmp_path):
    events = [
        event(1, "a", "reply", quantity=60),
        event(2, "a", "accepted_solution", quantity=16),
        event(3, "a", "article", quantity=40),
        event(4, "b", "visit", minutes=200, days=3),
        event(5, "b", "joined", days=-400),
        event(6, "c", "comment", quantity=3),
        event(7, "c", "like_received", quantity=9),
    ]
    ingest(tmp_path, events)
    levels_recompute()
    rules = load_rules()
    for member in CommunityMember.objects.select_related("level"):
        assert place(member.metric_values(), rules).id == member.level_id


@time_machine.travel("2026-06-15 12:00:00+00:00", tick=False)
def test_community_activity_of_mas_becomes_capped_verified_contributions_counted_once(tmp_path):
    year = ProgramYearFactory(year=2026)
    replies = ActivityTypeFactory(
        program_year=year, code="community-replies", tracking="community", points=2, annual_cap=50
    )
    ActivityTypeFactory(program_year=year, code="community-ideas", tracking="community", points=5, annual_cap=None)
    ActivityTypeFactory(program_year=year, code="community-posts", tracking=ActivityType.Tracking.MANUAL)
    user = UserFactory(email="ava@example.com")
    events = [
        event("r1", "ava", "reply", quantity=12, email="ava@example.com"),
        event("i1", "ava", "idea", quantity=2),
        event("p1", "ava", "post", quantity=3),  # its type is manual: not auto-tracked
        {**event("old", "ava", "reply", quantity=40), "occurred_at": "2025-11-02T10:00:00+00:00"},  # last year
    ]
    ingest(tmp_path, events)
    levels_recompute()
    contributions = {c.activity_type.code: c for c in Contribution.objects.filter(member=user)}
    assert set(contributions) == {"community-replies", "community-ideas"}
    reply = contributions["community-replies"]
    assert (reply.quantity, reply.awarded_points, reply.state, reply.source) == (12, 24, "verified", "community")
    assert reply.source_key == f"community:2026:community-replies:{user.pk}"
    assert contributions["community-ideas"].awarded_points == 10
    # more replies: the same contribution grows, up to the cap, never a second one
    ingest(tmp_path, [event("r2", "ava", "reply", quantity=30)], name="b.jsonl")
    levels_recompute()
    levels_recompute(full=True)
    reply = Contribution.objects.get(member=user, activity_type=replies)
    assert (reply.quantity, reply.awarded_points) == (42, 50)
    assert Contribution.objects.filter(member=user).count() == 2
    assert list(reply.history.order_by("history_id").values_list("history_type", "awarded_points")) == [
        ("+", 24),
        ("~", 50),
    ]


def _level_ups(tmp_path, count: int, name: str) -> None:
    """`count` linked MAs placed once, then raised by new replies: every one gets a level-up and a credit."""
    User.objects.bulk_create(
        [User(email=f"{name}{m}@example.org", first_name="M", last_name=str(m), password="!") for m in range(count)]
    )
    ingest(
        tmp_path, [event(f"{name}{m}-1", f"{name}{m}", "reply", email=f"{name}{m}@example.org") for m in range(count)]
    )
    levels_recompute()
    ingest(tmp_path, [event(f"{name}{m}-2", f"{name}{m}", "reply", quantity=10) for m in range(count)], name="up.jsonl")


@time_machine.travel("2026-06-15 12:00:00+00:00", tick=False)
def test_recompute_writes_level_ups_notifications_and_credits_in_the_same_statements_for_5_or_600_mas(
    tmp_path, django_capture_on_commit_callbacks
):
    year = ProgramYearFactory(year=2026)
    ActivityTypeFactory(program_year=year, code="community-replies", tracking="community", points=2, annual_cap=20)
    _level_ups(tmp_path, 5, "s")
    with CaptureQueriesContext(connection) as small, django_capture_on_commit_callbacks(execute=False):
        assert levels_recompute().raised == 5
    _level_ups(tmp_path, 600, "l")
    with CaptureQueriesContext(connection) as large, django_capture_on_commit_callbacks(execute=False):
        assert levels_recompute().raised == 600
    assert len(large.captured_queries) == len(small.captured_queries)
    assert Notification.objects.filter(kind="community.level_up").count() == 605
    up = Notification.objects.get(user__email="l7@example.org")
    assert (up.title, up.url) == ("You reached General Contributor in the community", "/community/me/")
    assert up.body == (
        "Your community activity moved you from New Contributor to General Contributor. See what the next level needs."
    )
    assert up.email_state == Notification.EmailState.PENDING
    credit = Contribution.objects.get(member__email="l7@example.org")
    assert (credit.quantity, credit.awarded_points, credit.state) == (11, 20, "verified")
    assert Contribution.objects.filter(source="community").count() == 605
    assert credit.history.count() == 2
