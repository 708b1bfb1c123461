"""Discourse: users from /directory_items.json, their actions from /user_actions.json and
their reading from /u/{username}/summary.json, all with `Api-Key` / `Api-Username` headers.

Incremental: `user_actions` come newest first, so each user's pages stop at the source's
watermark; the directory is asked for the period that covers the time since the watermark, so
only members active since then are visited. Visits and reading have no per-event history in
Discourse, only totals in the summary; the connector turns growth of those totals into events
whose ids are derived from the totals themselves (`…:visit:123`), so a replay, or a lost cursor,
never counts them twice.
"""

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from urllib.parse import quote

from django.utils import timezone

from community_levels.connectors.base import Connector, HttpClient

# Discourse's UserAction types (app/models/user_action.rb) and the canonical kinds they become.
ACTION_KINDS = {1: "like_given", 2: "like_received", 4: "post", 5: "reply", 15: "accepted_solution"}
ACTION_FILTER = ",".join(str(action) for action in ACTION_KINDS)
PERIODS = ((1, "daily"), (7, "weekly"), (30, "monthly"), (90, "quarterly"), (365, "yearly"))
OVERLAP = timedelta(hours=1)
MAX_PAGES = 1000


def _period(since: datetime | None) -> str:
    if since is None:
        return "all"
    age = (timezone.now() - since).days + 1
    for days, name in PERIODS:
        if age <= days:
            return name
    return "all"


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


class DiscourseConnector(Connector):
    def __init__(self, source) -> None:
        super().__init__(source)
        api_key = source.api_key or (os.environ.get(source.api_key_env, "") if source.api_key_env else "")
        headers = {"Accept": "application/json"}
        if api_key:
            headers.update({"Api-Key": api_key, "Api-Username": source.api_username})
        self.http = HttpClient(headers=headers)
        self.base = source.base_url.rstrip("/")
        self.cursor.setdefault("users", {})

    def fetch_events(self, since: datetime | None) -> Iterator[dict]:
        fetched_at = timezone.now()
        for item in self._directory(_period(since)):
            user = item.get("user") or {}
            username, user_id = user.get("username"), user.get("id")
            if not username or user_id is None:
                self.errors += 1
                continue
            try:
                yield from self._user_actions(username, since)
                yield from self._summary(username, str(user_id), fetched_at)
            except Exception:  # noqa: BLE001 - one member failing must not stop the others
                self.errors += 1
        self.cursor["last_requests"] = self.http.retries

    def _directory(self, period: str) -> Iterator[dict]:
        for page in range(MAX_PAGES):
            data = self.http.get_json(
                f"{self.base}/directory_items.json", {"period": period, "order": "post_count", "page": page}
            )
            items = data.get("directory_items") or []
            yield from items
            meta = data.get("meta") or {}
            total = meta.get("total_rows_directory_items")
            seen = (page + 1) * max(len(items), 1)
            if not items or not meta.get("load_more_directory_items") or (total is not None and seen >= total):
                return

    def _user_actions(self, username: str, since: datetime | None) -> Iterator[dict]:
        stop_at = since - OVERLAP if since else None
        offset = 0
        for _page in range(MAX_PAGES):
            data = self.http.get_json(
                f"{self.base}/user_actions.json", {"username": username, "filter": ACTION_FILTER, "offset": offset}
            )
            actions = data.get("user_actions") or []
            if not actions:
                return
            for action in actions:
                created = _parse_time(action.get("created_at", ""))
                if stop_at and created and created < stop_at:
                    return
                event = self._action_event(username, action)
                if event:
                    yield event
            offset += len(actions)

    def _action_event(self, username: str, action: dict) -> dict | None:
        kind = ACTION_KINDS.get(action.get("action_type"))
        if kind is None:
            return None
        member_id = action.get("user_id")
        acting = action.get("acting_user_id")
        target = ""
        if kind == "like_given":
            target = action.get("target_user_id")
        elif kind == "like_received":
            target = acting
        return {
            "event_id": f"action:{action.get('action_type')}:{action.get('post_id')}:{member_id}:{acting}",
            "member_id": member_id,
            "username": action.get("username") or username,
            "kind": kind,
            "occurred_at": action.get("created_at"),
            "target_member_id": target if target is not None else "",
        }

    def _summary(self, username: str, user_id: str, fetched_at: datetime) -> Iterator[dict]:
        data = self.http.get_json(f"{self.base}/u/{quote(username)}/summary.json")
        summary = data.get("user_summary") or {}
        previous = self.cursor["users"].get(user_id, {})
        days = int(summary.get("days_visited") or 0)
        seconds = int(summary.get("time_read") or 0)
        posts_read = int(summary.get("posts_read_count") or 0)
        when = fetched_at.isoformat()
        for number in range(int(previous.get("days_visited", 0)) + 1, days + 1):
            yield {
                "event_id": f"summary:{user_id}:visit:{number}",
                "member_id": user_id,
                "username": username,
                "kind": "visit",
                "occurred_at": when,
            }
        new_pages = posts_read - int(previous.get("posts_read", 0))
        new_minutes = (seconds - int(previous.get("time_read", 0))) // 60
        if new_pages > 0 or new_minutes > 0:
            yield {
                "event_id": f"summary:{user_id}:read:{posts_read}:{seconds}",
                "member_id": user_id,
                "username": username,
                "kind": "read",
                "occurred_at": when,
                "quantity": max(new_pages, 0),
                "minutes": max(new_minutes, 0),
            }
        self.cursor["users"][user_id] = {"days_visited": days, "time_read": seconds, "posts_read": posts_read}
