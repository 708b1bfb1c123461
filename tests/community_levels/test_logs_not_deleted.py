"""Stored activity and the level history are never deleted in the admin.

An event deleted in the admin left its quantity in the member's daily totals (only `revoke_events` takes back
exactly what an event added) and freed its id, so the next pull or replay of the same file imported it again:
the member's score counted it twice. The level history and the recompute runs are the record of what members
were told and why. A program admin holds every permission of the app, so the admin itself refuses.
"""

import pytest

from community_levels import services
from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import ActivityEvent, DailyActivity, LevelChange, RecomputeRun
from tests.community_levels.helpers import event, write_jsonl
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


def _events(tmp_path):
    path = write_jsonl(tmp_path / "activity.jsonl", [event(1, "u1", "post"), event(2, "u1", "post", days=1)])
    ingest_stream(parse_file(path), source="file")
    return path


@pytest.mark.parametrize("who", ["program_admin", "superuser"])
def test_an_event_deleted_in_the_admin_cannot_count_twice(client, request, tmp_path, who):
    from tests.factories import UserFactory

    staff = request.getfixturevalue(who) if who != "superuser" else UserFactory(is_staff=True, is_superuser=True)
    path = _events(tmp_path)
    first = ActivityEvent.objects.get(event_id="e1")
    client.force_login(with_mfa(staff))
    assert client.post(f"/admin/community_levels/activityevent/{first.pk}/delete/", {"post": "yes"}).status_code == 403
    listing = client.get("/admin/community_levels/activityevent/")
    assert listing.status_code == 200 and "delete_selected" not in listing.content.decode()
    client.post(
        "/admin/community_levels/activityevent/",
        {"action": "delete_selected", "_selected_action": [first.pk], "post": "yes"},
    )
    ingest_stream(parse_file(path), source="file")  # the next replay of the same file
    assert ActivityEvent.objects.count() == 2
    assert sum(DailyActivity.objects.values_list("events", flat=True)) == 2


def test_the_level_history_and_the_recompute_runs_are_not_deleted(client, program_admin, tmp_path):
    _events(tmp_path)
    services.recompute(full=True, reason="test")
    change, run = LevelChange.objects.first(), RecomputeRun.objects.first()
    assert change is not None and run is not None
    client.force_login(with_mfa(program_admin))
    assert client.post(f"/admin/community_levels/levelchange/{change.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post(f"/admin/community_levels/recomputerun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LevelChange.objects.filter(pk=change.pk).exists() and RecomputeRun.objects.filter(pk=run.pk).exists()
