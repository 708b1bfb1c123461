import pytest

from community_levels.ingestion import ingest_stream, parse_file
from community_levels.recompute import levels_recompute
from tests.community_levels.helpers import event, write_jsonl
from tests.factories import UserFactory
from tests.helpers import screenshot, sign_in_fast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _ava_with_activity(tmp_path):
    user = UserFactory(email="ava@example.com", first_name="Ava")
    events = [
        event(1, "ava", "joined", days=-200, email="ava@example.com", username="ava.patel"),
        *[event(10 + i, "ava", "visit", days=-i * 3, minutes=12) for i in range(20)],
        event(2, "ava", "reply", quantity=40, days=-30),
        event(3, "ava", "accepted_solution", quantity=3, days=-20),
    ]
    ingest_stream(parse_file(write_jsonl(tmp_path / "a.jsonl", events)), source="file")
    levels_recompute()
    ingest_stream(parse_file(write_jsonl(tmp_path / "b.jsonl", [event(4, "ava", "reply", quantity=25)])), source="file")
    levels_recompute()
    return user


def test_public_ladder_page(page, phone_page):
    page.goto("/community/levels/")
    assert page.get_by_role("heading", name="Community levels").is_visible()
    assert page.get_by_role("rowheader", name="Hyper Boss").is_visible()
    screenshot(page, "community-levels")
    phone_page.goto("/community/levels/")
    screenshot(phone_page, "community-levels-phone")


def test_my_level_page_shows_level_breakdown_and_next_step(page, phone_page, live_server, tmp_path):
    user = _ava_with_activity(tmp_path)
    sign_in_fast(page, live_server, user)
    page.goto("/community/me/")
    assert page.get_by_role("heading", name="What you need for the next level").is_visible()
    text = page.locator(".next-level-text").inner_text()
    assert "to reach" in text and "more replies" in text
    screenshot(page, "community-me")
    sign_in_fast(phone_page, live_server, user)
    phone_page.goto("/community/me/")
    screenshot(phone_page, "community-me-phone")


def test_my_level_page_without_community_identity(page, live_server):
    sign_in_fast(page, live_server, UserFactory(email="new@example.com"))
    page.goto("/community/me/")
    assert page.get_by_role("heading", name="We have not found your community profile yet").is_visible()
    screenshot(page, "community-me-unlinked")
    page.goto("/community/boss/")
    screenshot(page, "community-boss")
