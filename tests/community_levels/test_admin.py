import json
from datetime import date
from io import StringIO

import pytest

from accounts.models import Notification
from community_levels import demo
from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import (
    ActivityEvent,
    BossApplication,
    CommunityMember,
    Level,
    RecomputeRun,
    ScoringWeight,
)
from community_levels.recompute import levels_recompute
from community_levels.services import boss_application_submit
from tests.community_levels.helpers import event, write_jsonl
from tests.factories import BossProgramWindowFactory, StaffFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(with_mfa(StaffFactory(email="root@example.com", is_superuser=True)))
    return client


def ingest(tmp_path, events, name="a.jsonl"):
    ingest_stream(parse_file(write_jsonl(tmp_path / name, events)), source="file")
    levels_recompute()


def test_preview_shows_how_many_members_would_land_on_each_level_before_saving(admin_client, tmp_path):
    ingest(tmp_path, [event(i, f"m{i}", "reply", quantity=6) for i in range(4)])  # 24 points each: General
    general = Level.objects.get(name="General Contributor")
    replies = ScoringWeight.objects.get(metric="replies")
    page = admin_client.get("/admin/community_levels/level/preview/")
    assert page.status_code == 200
    form = {f"level-{lvl.pk}": str(lvl.min_score) for lvl in Level.objects.all()}
    form.update({f"weight-{w.pk}": str(w.weight) for w in ScoringWeight.objects.all()})
    form.update({f"cap-{w.pk}": "" if w.daily_cap is None else str(w.daily_cap) for w in ScoringWeight.objects.all()})
    for requirement in general.requirements.all():
        form[f"req-{requirement.pk}"] = str(requirement.minimum)
    form.update({f"req-{r.pk}": str(r.minimum) for lvl in Level.objects.all() for r in lvl.requirements.all()})
    form[f"weight-{replies.pk}"] = "3"  # 18 points: back to New Contributor
    response = admin_client.post("/admin/community_levels/level/preview/", {**form, "action": "preview"})
    html = response.content.decode()
    assert "<strong>4</strong> (+4)" in html  # New Contributor under the edited rules
    assert "<strong>0</strong> (-4)" in html  # General Contributor
    replies.refresh_from_db()
    assert replies.weight == 4  # nothing saved by a preview
    assert CommunityMember.objects.filter(level=general).count() == 4


def test_saving_edited_rules_keeps_history_and_recomputes_everyone(
    admin_client, tmp_path, django_capture_on_commit_callbacks
):
    ingest(tmp_path, [event(i, f"m{i}", "reply", quantity=6) for i in range(4)])
    replies = ScoringWeight.objects.get(metric="replies")
    form = {f"level-{lvl.pk}": str(lvl.min_score) for lvl in Level.objects.all()}
    form.update({f"weight-{w.pk}": str(w.weight) for w in ScoringWeight.objects.all()})
    form.update({f"cap-{w.pk}": "" if w.daily_cap is None else str(w.daily_cap) for w in ScoringWeight.objects.all()})
    form.update({f"req-{r.pk}": str(r.minimum) for lvl in Level.objects.all() for r in lvl.requirements.all()})
    form[f"weight-{replies.pk}"] = "3"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/community_levels/level/preview/", {**form, "action": "save"})
    assert response.status_code == 302
    replies.refresh_from_db()
    assert replies.weight == 3
    assert replies.history.latest().weight == 3  # the change is kept in history
    assert set(CommunityMember.objects.values_list("level__name", flat=True)) == {"New Contributor"}


def test_saving_one_changed_rule_says_so_in_the_singular(admin_client, tmp_path, django_capture_on_commit_callbacks):
    """The walk's reading after one threshold changed: "1 rules saved", and the recompute's reason
    "(1 thresholds or weights)". One rule is one rule, in the message and in the recompute's reason."""
    ingest(tmp_path, [event(i, f"m{i}", "reply", quantity=6) for i in range(2)])
    replies = ScoringWeight.objects.get(metric="replies")
    form = {f"level-{lvl.pk}": str(lvl.min_score) for lvl in Level.objects.all()}
    form.update({f"weight-{w.pk}": str(w.weight) for w in ScoringWeight.objects.all()})
    form.update({f"cap-{w.pk}": "" if w.daily_cap is None else str(w.daily_cap) for w in ScoringWeight.objects.all()})
    form.update({f"req-{r.pk}": str(r.minimum) for lvl in Level.objects.all() for r in lvl.requirements.all()})
    form[f"weight-{replies.pk}"] = "3"
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/community_levels/level/preview/", {**form, "action": "save"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["1 rule saved; a full recompute is running."]
    reasons = list(RecomputeRun.objects.values_list("reason", flat=True))
    assert any(reason.endswith("(1 threshold or weight)") for reason in reasons), reasons


def test_preview_rejects_bad_numbers_with_a_message(admin_client):
    level = Level.objects.get(name="Hyper Boss")
    response = admin_client.post(
        "/admin/community_levels/level/preview/", {f"level-{level.pk}": "lots", "action": "save"}
    )
    assert response.status_code == 200
    assert "Hyper Boss: enter a number." in response.content.decode()


def test_admin_import_previews_then_imports_with_the_same_parser(admin_client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    content = json.dumps(event(1, "m1", "reply")) + "\n{oops\n" + json.dumps(event(2, "m1", "post")) + "\n"
    upload = StringIO(content)
    upload.name = "activity.jsonl"
    response = admin_client.post("/admin/community_levels/activityevent/import/", {"file": upload})
    html = response.content.decode()
    assert "3 lines read: 2 good, 1 bad" in html
    assert "invalid JSON" in html and "<td>2</td>" in html
    assert ActivityEvent.objects.count() == 0
    token = response.context["token"]
    response = admin_client.post("/admin/community_levels/activityevent/import/", {"token": token})
    assert "2 new events, 0 already known, 1 bad line skipped" in response.content.decode()
    assert ActivityEvent.objects.count() == 2
    assert not list((tmp_path / "media" / "community-imports").iterdir())


def test_admin_excludes_a_members_events(admin_client, tmp_path, django_capture_on_commit_callbacks):
    ingest(tmp_path, [event(1, "spam", "reply", quantity=300)])
    member = CommunityMember.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/community_levels/communitymember/",
            {"action": "exclude_members", "_selected_action": [member.pk]},
        )
    member.refresh_from_db()
    assert member.is_excluded and member.level.name == "New Member"


def test_excluding_and_including_one_member_says_so_in_the_singular(admin_client, tmp_path):
    ingest(tmp_path, [event(1, "spam", "reply")])
    member = CommunityMember.objects.get()
    url = "/admin/community_levels/communitymember/"

    excluded = admin_client.post(url, {"action": "exclude_members", "_selected_action": [member.pk]}, follow=True)
    included = admin_client.post(url, {"action": "include_members", "_selected_action": [member.pk]}, follow=True)

    assert "1 member excluded; their level is being recomputed." in excluded.content.decode()
    assert "1 member included again." in included.content.decode()


def test_staff_decide_boss_applications_and_the_member_is_told(admin_client, tmp_path):
    window = BossProgramWindowFactory(opens_on=date(2026, 7, 1), closes_on=date(2026, 7, 31))
    user = UserFactory(email="boss@example.com")
    ingest(
        tmp_path,
        [
            event(1, "boss", "accepted_solution", quantity=10, email="boss@example.com"),
            event(2, "boss", "article", quantity=40),
        ],
    )
    member = CommunityMember.objects.get()
    application = boss_application_submit(member=member, statement="Please", today=date(2026, 7, 3))
    assert application.window == window
    admin_client.post(
        "/admin/community_levels/bossapplication/",
        {"action": "accept_applications", "_selected_action": [application.pk]},
    )
    application.refresh_from_db()
    assert application.state == BossApplication.State.ACCEPTED
    assert application.decided_by.email == "root@example.com"
    assert Notification.objects.get(user=user).kind == "community.boss_decision"
    assert application.history.count() == 2


def test_deciding_one_boss_application_says_so_in_the_singular(admin_client, tmp_path):
    BossProgramWindowFactory(opens_on=date(2026, 7, 1), closes_on=date(2026, 7, 31))
    UserFactory(email="boss@example.com")
    ingest(
        tmp_path,
        [
            event(1, "boss", "accepted_solution", quantity=10, email="boss@example.com"),
            event(2, "boss", "article", quantity=40),
        ],
    )
    application = boss_application_submit(
        member=CommunityMember.objects.get(), statement="Please", today=date(2026, 7, 3)
    )
    response = admin_client.post(
        "/admin/community_levels/bossapplication/",
        {"action": "accept_applications", "_selected_action": [application.pk]},
        follow=True,
    )
    assert "1 application decided." in [str(m) for m in response.context["messages"]]


def test_admin_pages_open(admin_client, tmp_path):
    ingest(tmp_path, [event(1, "m", "reply")])
    for url in (
        "/admin/community_levels/level/",
        f"/admin/community_levels/level/{Level.objects.first().pk}/change/",
        "/admin/community_levels/communitymember/",
        f"/admin/community_levels/communitymember/{CommunityMember.objects.get().pk}/change/",
        "/admin/community_levels/activityevent/",
        "/admin/community_levels/activityevent/import/",
        "/admin/community_levels/communitysource/",
        "/admin/community_levels/communitysource/add/",
        "/admin/community_levels/bossapplication/",
        "/admin/community_levels/bossprogramwindow/",
        "/admin/community_levels/levelchange/",
        "/admin/community_levels/recomputerun/",
        "/admin/community_levels/scoringweight/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_seed_demo_populates_every_level_and_links_the_demo_mas(monkeypatch):
    from accounts import demo as accounts_demo

    monkeypatch.setattr(demo, "MEMBERS", 200)
    accounts_demo.seed(stdout=StringIO())
    out = StringIO()
    demo.seed(stdout=out)
    assert "14/14 levels populated" in out.getvalue()
    assert CommunityMember.objects.get(user__email="ava.member@example.com").level.tier == "active"
    assert CommunityMember.objects.get(user__email="ben.member@example.com").level.tier == "passive"
    again = StringIO()
    demo.seed(stdout=again)
    assert "already there" in again.getvalue()


def _runs(count: int, source) -> None:
    from django.utils import timezone

    from community_levels.models import SourceRun

    SourceRun.objects.bulk_create(
        SourceRun(source=source, started_at=timezone.now(), state=SourceRun.State.SUCCEEDED, imported=n)
        for n in range(count)
    )


def test_source_runs_pages_cost_the_same_queries_for_3_or_30_runs(admin_client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import CommunitySourceFactory

    source = CommunitySourceFactory()
    pages = ("/admin/community_levels/sourcerun/", f"/admin/community_levels/communitysource/{source.pk}/change/")
    for url in pages:
        admin_client.get(url)  # the session and the content types are read once
    counts = {}
    for runs, added in ((3, 3), (30, 27)):
        _runs(added, source)
        for url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert admin_client.get(url).status_code == 200, url
            counts[(runs, url)] = len(queries)
    for url in pages:
        assert counts[(3, url)] == counts[(30, url)], counts
    with django_assert_max_num_queries(25):
        admin_client.get(pages[1])


def test_only_program_admins_may_pull_or_reset_a_source(client, verifier, program_admin):
    from tests.factories import CommunitySourceFactory

    source = CommunitySourceFactory(cursor={"posts": {"after_id": 9}})
    url = "/admin/community_levels/communitysource/"
    client.force_login(with_mfa(verifier))
    page = client.get(url)
    assert page.status_code == 200 and "reset_cursors" not in page.content.decode()
    client.post(url, {"action": "reset_cursors", "_selected_action": [source.pk], "confirm": "yes"})
    source.refresh_from_db()
    assert source.cursor == {"posts": {"after_id": 9}}
    client.force_login(with_mfa(program_admin))
    assert "reset_cursors" in client.get(url).content.decode()


def test_a_second_preview_of_the_same_file_says_nothing_is_new(admin_client, tmp_path, settings):
    """Issue 17: re-importing a file says "0 new, 2 unchanged" before anything is written."""
    settings.MEDIA_ROOT = tmp_path / "media"
    content = json.dumps(event(1, "m1", "reply")) + "\n" + json.dumps(event(2, "m1", "post")) + "\n"

    def preview():
        upload = StringIO(content)
        upload.name = "activity.jsonl"
        return admin_client.post("/admin/community_levels/activityevent/import/", {"file": upload})

    first = preview()
    assert "2 new, 0 unchanged (already imported)" in first.content.decode()
    admin_client.post("/admin/community_levels/activityevent/import/", {"token": first.context["token"]})
    assert "0 new, 2 unchanged (already imported)" in preview().content.decode()
