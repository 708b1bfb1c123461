from datetime import date

import pytest
import time_machine
from django.template.loader import render_to_string

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.models import BossApplication, CommunityMember, Level
from community_levels.recompute import levels_recompute
from community_levels.selectors import level_for_member
from tests.community_levels.helpers import event, write_jsonl
from tests.community_levels.test_recompute import LADDER
from tests.factories import BossProgramWindowFactory, UserFactory

pytestmark = pytest.mark.django_db


def ingest(tmp_path, events, name="a.jsonl"):
    ingest_stream(parse_file(write_jsonl(tmp_path / name, events)), source="file")
    levels_recompute()


def test_the_public_ladder_lists_the_fourteen_levels_in_order_with_their_exact_criteria(client):
    html = client.get("/community/levels/").content.decode()
    positions = [html.index(f">{name}") for name in LADDER]
    assert positions == sorted(positions)
    assert "Passive score of at least 150, no contribution yet" in html
    assert "Active score of at least 900, at least 5 accepted solutions, at least one contribution" in html
    assert "Active score of at least 7,500, at least 150 accepted solutions, at least 15 articles" in html
    assert "at most 10 a day" in html


def test_the_ladder_page_runs_a_constant_number_of_queries(client, django_assert_max_num_queries, tmp_path):
    ingest(tmp_path, [event(i, f"m{i}", "reply", quantity=i) for i in range(50)])
    with django_assert_max_num_queries(4):
        assert client.get("/community/levels/").status_code == 200


def test_my_level_page_shows_the_exact_shortfall_for_the_next_level(client, tmp_path):
    user = UserFactory(email="ava@example.com")
    # 3 accepted solutions (45) + 100 replies (400) + 2 articles (40) = 485: Trusted Contributor (450).
    # Community Boss needs 900 and 5 accepted solutions: 2 more solutions (+30) leave 385 = 97 replies,
    # 26 accepted solutions or 77 posts.
    ingest(
        tmp_path,
        [
            event(1, "ava", "accepted_solution", quantity=3, email="ava@example.com"),
            event(2, "ava", "reply", quantity=100),
            event(3, "ava", "article", quantity=2),
        ],
    )
    client.force_login(user)
    html = client.get("/community/me/").content.decode()
    assert "Trusted Contributor" in html
    assert (
        "2 more accepted solutions (Community Boss asks for at least 5), then 97 more replies, "
        "26 more accepted solutions or 77 more posts to reach Community Boss." in html
    )
    assert "485" in html
    assert "Replies" in html and "400" in html
    assert "New community activity" in html  # the level history


def test_a_passive_member_sees_what_reading_gets_them(client, tmp_path):
    user = UserFactory(email="ben@example.com")
    ingest(tmp_path, [event(i, "ben", "visit", days=i, minutes=5, email="ben@example.com") for i in range(3)])
    # passive: 3 days span * 0.2 + 3 days * 2 + 15 minutes * 0.2 = 9.6; Community Member needs 40: 30.4 to go
    client.force_login(user)
    html = client.get("/community/me/").content.decode()
    assert "New Member" in html
    assert "16 more days visiting or 152 more minutes reading to reach Community Member." in html


def test_my_level_without_a_community_identity_explains_linking(client):
    client.force_login(UserFactory(email="new@example.com"))
    response = client.get("/community/me/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "We have not found your community profile yet" in html
    assert "new@example.com" in html


def test_my_level_page_needs_sign_in(client):
    assert client.get("/community/me/").status_code == 302


def test_my_level_page_query_count_does_not_grow_with_history(client, tmp_path, django_assert_max_num_queries):
    user = UserFactory(email="ava@example.com")
    ingest(tmp_path, [event(1, "ava", "reply", email="ava@example.com")])
    client.force_login(user)
    client.get("/notifications/")  # the session's first request records it; measure the steady state
    # Rendered (a test's transaction bypasses the page cache): session, user, identity, two for the rules,
    # history, unread count. A cached hit costs 4 (test_me_cache.py).
    with django_assert_max_num_queries(7) as small:
        client.get("/community/me/")
    for n in range(2, 30):
        ingest(tmp_path, [event(n, "ava", "reply", quantity=n * 10)], name=f"{n}.jsonl")
        levels_recompute(full=True)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/community/me/")


def test_dashboard_card_shows_level_and_next_step_or_explains_linking(tmp_path):
    user = UserFactory(email="ava@example.com")
    html = render_to_string("community_levels/_dashboard_card.html", {"community_standing": None})
    assert "Community level" in html and "No community profile is linked" in html
    ingest(tmp_path, [event(1, "ava", "reply", email="ava@example.com")])
    standing = level_for_member(user=user)
    html = render_to_string("community_levels/_dashboard_card.html", {"community_standing": standing})
    assert "New Contributor" in html and "Active tier" in html
    assert "more replies" in html and "/community/me/" in html


@time_machine.travel("2026-05-10 10:00:00+00:00", tick=False)
def test_boss_page_outside_a_window_says_when_the_next_opens(client, tmp_path):
    BossProgramWindowFactory(opens_on=date(2026, 2, 1), closes_on=date(2026, 2, 28))
    BossProgramWindowFactory(opens_on=date(2026, 7, 1), closes_on=date(2026, 7, 31))
    client.force_login(UserFactory())
    html = client.get("/community/boss/").content.decode()
    assert "The next application window opens on 1 July 2026 and closes on 31 July 2026." in html


@time_machine.travel("2026-07-10 10:00:00+00:00", tick=False)
def test_only_community_boss_or_above_may_apply_during_a_window(client, tmp_path):
    BossProgramWindowFactory(opens_on=date(2026, 7, 1), closes_on=date(2026, 7, 31))
    boss = UserFactory(email="boss@example.com")
    helper = UserFactory(email="helper@example.com")
    ingest(
        tmp_path,
        [
            event(1, "boss", "accepted_solution", quantity=10, email="boss@example.com"),
            event(2, "boss", "article", quantity=40),
            event(3, "helper", "reply", quantity=5, email="helper@example.com"),
        ],
    )
    assert CommunityMember.objects.get(external_id="boss").level.name == "Community Boss"
    client.force_login(helper)
    html = client.get("/community/boss/").content.decode()
    assert "open to members at Community Boss level or above" in html
    assert client.post("/community/boss/", {"statement": "Me!"}).status_code == 200
    assert not BossApplication.objects.exists()
    client.force_login(boss)
    assert "Apply" in client.get("/community/boss/").content.decode()
    response = client.post("/community/boss/", {"statement": "I answer planning questions every week."}, follow=True)
    assert "Your application was sent" in response.content.decode()
    application = BossApplication.objects.get()
    assert (application.member.external_id, application.level_at_application.name) == ("boss", "Community Boss")
    # a second application in the same window is refused with a clear message
    html = client.get("/community/boss/").content.decode()
    assert "You have applied in this window" in html


def test_levels_are_data_the_page_follows_an_edited_ladder(client):
    Level.objects.filter(name="Hyper Boss").update(min_score=12345)
    assert "Active score of at least 12,345" in client.get("/community/levels/").content.decode()
