"""A Discourse `user_visits` row becomes canonical events (the pure part of the connector's visit
stream): a visit with its minutes, and a read event when posts were read that day."""

from datetime import date

from community_levels.connectors.discourse import visit_events
from community_levels.ingestion import record_from_mapping


def test_a_day_with_reading_is_a_visit_and_a_read_with_stable_ids():
    row = {"user_id": 42, "username": "ava", "visited_at": date(2026, 3, 2), "minutes": 7, "posts_read": 12}
    events = visit_events(row, member="forum-42")
    assert events == [
        {
            "event_id": "visit:42:2026-03-02",
            "member_id": "forum-42",
            "username": "ava",
            "kind": "visit",
            "occurred_at": "2026-03-02T00:00:00+00:00",
            "minutes": 7,
        },
        {
            "event_id": "read:42:2026-03-02",
            "member_id": "forum-42",
            "username": "ava",
            "kind": "read",
            "occurred_at": "2026-03-02T00:00:00+00:00",
            "quantity": 12,
        },
    ]
    assert [record_from_mapping(event).kind for event in events] == ["visit", "read"]


def test_a_day_without_reading_is_a_visit_only_and_empty_values_count_zero():
    row = {"user_id": 7, "username": None, "visited_at": "2026-03-02 00:00:00", "minutes": None, "posts_read": 0}
    (visit,) = visit_events(row, member="forum-7")
    assert (visit["event_id"], visit["username"], visit["minutes"]) == ("visit:7:2026-03-02", "", 0)
