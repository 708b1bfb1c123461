"""A pulled page's events become records; the ones that cannot be stored are named with their reason
(the pure part of `source_sync`, tested without a database or a platform)."""

from community_levels.services.sources import page_records
from tests.community_levels.helpers import event


def test_a_page_keeps_its_good_events_and_names_each_bad_one_with_its_reason():
    good = event(1, "m1", "reply")
    unknown_kind = event(2, "m1", "teleport")
    no_id = {k: v for k, v in event(3, "m2", "visit").items() if k != "event_id"}
    records, errors = page_records([good, unknown_kind, no_id])
    assert [(r.event_id, r.member_id, r.kind) for r in records] == [("e1", "m1", "reply")]
    assert len(errors) == 2
    assert errors[0].startswith("e2: unknown kind 'teleport'")
    assert errors[1] == "?: missing event_id"


def test_an_empty_page_stores_nothing_and_reports_nothing():
    assert page_records([]) == ([], [])
