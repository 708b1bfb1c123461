"""The Discourse connector against a local HTTP server speaking Discourse's documented shapes."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from community_levels import services
from community_levels.models import ActivityEvent, CommunityMember, CommunitySource
from tests.factories import CommunitySourceFactory

pytestmark = pytest.mark.django_db


def directory_item(user_id: int, username: str) -> dict:
    return {
        "id": user_id,
        "likes_received": 3,
        "likes_given": 2,
        "topics_entered": 10,
        "topic_count": 1,
        "post_count": 4,
        "posts_read": 50,
        "days_visited": 5,
        "user": {"id": user_id, "username": username, "name": username.title(), "avatar_template": "/a/{size}.png"},
    }


def action(action_type: int, post_id: int, user_id: int, username: str, when: str, **extra) -> dict:
    return {
        "excerpt": "…",
        "action_type": action_type,
        "created_at": when,
        "avatar_template": "/a/{size}.png",
        "acting_avatar_template": "/a/{size}.png",
        "slug": "a-topic",
        "topic_id": 7,
        "target_user_id": extra.pop("target_user_id", user_id),
        "target_name": "",
        "target_username": extra.pop("target_username", username),
        "post_number": 2,
        "post_id": post_id,
        "username": username,
        "name": username.title(),
        "user_id": user_id,
        "acting_username": extra.pop("acting_username", username),
        "acting_name": "",
        "acting_user_id": extra.pop("acting_user_id", user_id),
        "title": "A topic",
        "deleted": False,
        "hidden": False,
        "post_type": 1,
        "action_code": None,
        "category_id": 3,
        "closed": False,
        "archived": False,
        **extra,
    }


class FakeDiscourse:
    """State of the fake forum plus the log of requests it received."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        self.fail_once = {("directory", "1"): 429, ("actions", "alice", "0"): 500}
        recent = (timezone.now() - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        old = "2025-01-10T10:00:00.000Z"
        self.directory = [directory_item(1, "alice"), directory_item(2, "bob"), directory_item(3, "carol")]
        self.actions = {
            "alice": [
                action(5, 101, 1, "alice", recent),
                action(4, 100, 1, "alice", recent),
                action(15, 102, 1, "alice", old),
            ],
            "bob": [
                action(1, 101, 2, "bob", old, target_user_id=1, target_username="alice"),
                action(2, 200, 2, "bob", old, acting_user_id=1, acting_username="alice"),
                action(1, 201, 2, "bob", old, target_user_id=2, target_username="bob"),  # self-like
            ],
            "carol": [],
        }
        self.summaries = {
            "alice": {"days_visited": 3, "time_read": 1200, "posts_read_count": 40, "likes_given": 0},
            "bob": {"days_visited": 2, "time_read": 300, "posts_read_count": 5},
            "carol": {"days_visited": 1, "time_read": 60, "posts_read_count": 1},
        }


def make_handler(forum: FakeDiscourse):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            forum.requests.append((url.path, query, {"key": self.headers.get("Api-Key")}))
            if self.headers.get("Api-Key") != "secret":
                return self._json(403, {"errors": ["You are not permitted to view the requested resource."]})
            if url.path == "/directory_items.json":
                page = query.get("page", "0")
                if forum.fail_once.pop(("directory", page), None):
                    return self._json(429, {"errors": ["Slow down"]}, {"Retry-After": "0"})
                per_page = 2
                start = int(page) * per_page
                items = forum.directory[start : start + per_page]
                more = start + per_page < len(forum.directory)
                meta = {"total_rows_directory_items": len(forum.directory), "load_more_directory_items": None}
                if more:
                    meta["load_more_directory_items"] = f"/directory_items.json?page={int(page) + 1}"
                return self._json(200, {"directory_items": items, "meta": meta})
            if url.path == "/user_actions.json":
                username, offset = query["username"], query.get("offset", "0")
                if forum.fail_once.pop(("actions", username, offset), None):
                    return self._json(500, {"errors": ["boom"]})
                page = forum.actions.get(username, [])[int(offset) : int(offset) + 2]
                return self._json(200, {"user_actions": page})
            if url.path.startswith("/u/") and url.path.endswith("/summary.json"):
                username = url.path.split("/")[2]
                return self._json(200, {"user_summary": forum.summaries[username], "topics": [], "replies": []})
            return self._json(404, {"errors": ["not found"]})

    return Handler


@pytest.fixture
def forum(settings):
    settings.COMMUNITY_CONNECTOR_BACKOFF_SECONDS = 0.01
    state = FakeDiscourse()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()


def test_discourse_pull_pages_retries_and_feeds_the_ingestion_pipeline(forum):
    source = CommunitySourceFactory(base_url=forum.url, api_key="secret", api_username="system", slug="forum")
    result = services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is True, source.last_error
    # alice: reply, post, solution, 3 visits, 1 read; bob: like given, like received, self-like, 2 visits, 1 read;
    # carol: 1 visit, 1 read
    assert (result.read, result.imported, result.bad) == (15, 15, 0)
    assert (source.last_run_items, source.last_run_imported, source.last_run_errors) == (15, 15, 0)
    assert source.watermark is not None
    paths = [path for path, _q, _h in forum.requests]
    assert paths.count("/directory_items.json") == 3  # page 0, page 1 refused once with 429, page 1
    assert ("/user_actions.json", {"username": "alice", "filter": "1,2,4,5,15", "offset": "0"}) in [
        (p, q) for p, q, _h in forum.requests
    ]
    assert sum(1 for p, q, _h in forum.requests if p == "/user_actions.json" and q["username"] == "alice") == 4
    alice = CommunityMember.objects.get(external_id="1")
    assert alice.username == "alice"
    kinds = sorted(ActivityEvent.objects.filter(member=alice).values_list("kind", flat=True))
    assert kinds == ["accepted_solution", "post", "read", "reply", "visit", "visit", "visit"]
    read = ActivityEvent.objects.get(member=alice, kind="read")
    assert (read.quantity, read.minutes) == (40, 20)
    assert ActivityEvent.objects.filter(member__external_id="2", is_self_like=True).count() == 1
    assert alice.level is None or alice.level.tier == "active"


def test_a_second_pull_asks_only_for_what_is_new(forum):
    source = CommunitySourceFactory(base_url=forum.url, api_key="secret", slug="forum")
    services.source_sync(source_id=source.pk)
    forum.requests.clear()
    forum.summaries["alice"] = {"days_visited": 4, "time_read": 1500, "posts_read_count": 45}
    recent = timezone.now().isoformat().replace("+00:00", "Z")
    forum.actions["alice"].insert(0, action(5, 103, 1, "alice", recent))
    result = services.source_sync(source_id=source.pk)
    assert result.imported == 3  # the new reply, one more visit day, the new reading
    directory = [q for p, q, _h in forum.requests if p == "/directory_items.json"]
    assert directory[0]["period"] == "daily"
    # alice's actions stop at the watermark: the old accepted solution page is never asked for
    offsets = [q["offset"] for p, q, _h in forum.requests if p == "/user_actions.json" and q["username"] == "alice"]
    assert offsets == ["0", "2"]
    assert ActivityEvent.objects.filter(member__external_id="1", kind="reply").count() == 2


def test_a_failing_source_records_the_error_and_keeps_its_watermark(forum, settings):
    settings.COMMUNITY_CONNECTOR_MAX_ATTEMPTS = 2
    source = CommunitySourceFactory(base_url=forum.url, api_key="wrong", slug="forum")
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is False
    assert "403" in source.last_error
    assert source.watermark is None
    assert CommunitySource.objects.get(pk=source.pk).last_run_at is not None


def test_the_api_key_can_come_from_the_environment(forum, monkeypatch):
    monkeypatch.setenv("FORUM_KEY", "secret")
    source = CommunitySourceFactory(base_url=forum.url, api_key="", api_key_env="FORUM_KEY", slug="forum")
    services.source_sync(source_id=source.pk)
    source.refresh_from_db()
    assert source.last_run_ok is True
    assert {h["key"] for _p, _q, h in forum.requests} == {"secret"}
