"""Property tests: a member's level depends only on their events, not on order or batching."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from community_levels.ingestion import KINDS, Record, ingest_stream
from community_levels.models import ActivityEvent, CommunityMember, DailyActivity, LevelChange
from community_levels.recompute import levels_recompute
from community_levels.rules import load_rules, place
from tests.community_levels.helpers import reference_metrics

pytestmark = pytest.mark.django_db

MEMBERS = ["m1", "m2", "m3"]
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

event_strategy = st.builds(
    lambda n, member, kind, day, quantity, minutes, target: Record(
        event_id=f"p{n}",
        member_id=member,
        kind=kind,
        occurred_at=START + timedelta(days=day, minutes=n % 600),
        quantity=quantity,
        minutes=minutes,
        target_member_id=target if kind.startswith("like") else "",
    ),
    n=st.integers(0, 40),  # small id space: some events are replays of others
    member=st.sampled_from(MEMBERS),
    kind=st.sampled_from(KINDS),
    day=st.integers(0, 12),
    quantity=st.integers(0, 30),
    minutes=st.integers(0, 60),
    target=st.sampled_from(MEMBERS),
)


def reset() -> None:
    LevelChange.objects.all().delete()
    ActivityEvent.objects.all().delete()
    DailyActivity.objects.all().delete()
    CommunityMember.objects.all().delete()


def run(records: list[Record], batch_size: int, *, fast: bool) -> dict[str, tuple]:
    ingest_stream(enumerate(records, start=1), source="prop", batch_size=batch_size, fast=fast)
    levels_recompute()
    return {
        m.external_id: (m.level_id, m.passive_score, m.active_score, tuple(m.metric_values().items()))
        for m in CommunityMember.objects.all()
    }


def python_levels(records: list[Record]) -> dict[str, int]:
    """The model: first occurrence of each event id wins; metrics and placement in plain Python."""
    rules = load_rules()
    seen: dict[str, Record] = {}
    for record in records:
        seen.setdefault(record.event_id, record)
    per_member: dict[str, list[Record]] = defaultdict(list)
    for record in seen.values():
        per_member[record.member_id].append(record)
    cap = rules.caps["likes_given"]
    levels = {}
    for member, events in per_member.items():
        counted = [e for e in events if not e.is_self_like]
        metrics = reference_metrics(counted, cap)
        levels[member] = place(metrics, rules).id
    return levels


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(event_strategy, min_size=1, max_size=40),
    order=st.randoms(use_true_random=False),
    batch_size=st.integers(1, 15),
)
def test_level_depends_only_on_the_events_not_on_order_or_batching(records, order, batch_size):
    reset()
    # Replays keep the first line of an id; shuffle distinct events so the first occurrence stays the same.
    distinct = list({r.event_id: r for r in reversed(records)}.values())
    reference = run(distinct, batch_size=len(distinct), fast=True)
    reset()
    shuffled = distinct[:]
    order.shuffle(shuffled)
    replayed = shuffled + shuffled[: len(shuffled) // 2]
    assert run(replayed, batch_size=batch_size, fast=True) == reference
    reset()
    assert run(shuffled, batch_size=batch_size, fast=False) == reference
    assert {member: value[0] for member, value in reference.items()} == python_levels(distinct)
