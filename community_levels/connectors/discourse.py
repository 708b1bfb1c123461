"""Discourse: members from the admin user list, activity from bulk Data Explorer queries.

Why this design (docs/discourse.md argues it in full): Discourse allows 60 admin API requests a
minute per site, shared by every integration. Crawling each member (directory, user actions,
summary) costs requests in proportion to the members, on every run, and the directory stops at
page 10. Instead:

* members: `/admin/users/list/active.json?show_emails=true&order=created` (100 a page) gives
  each member's id, username, email and `created_at` (the `joined` event). The first pass reads
  every page oldest first; afterwards one request, newest first, until a known `created_at`.
* activity: four Data Explorer queries (connectors/discourse_queries.py) read posts, likes,
  accepted solutions and daily visits for the whole forum after a keyset cursor, 1,000 rows a
  request. A run with nothing new costs one request per stream: constant in the forum's size.

Every stream keeps its own cursor in `source.cursor`; the service stores a page's events and the
stream's new cursor in one transaction. Member ids are namespaced by the source's key
(`<slug>:<discourse user id>`), so two forums never merge different people.
"""

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from community_levels.connectors.base import Connector, ConnectorError, HttpClient, HttpError, Page
from community_levels.connectors.discourse_queries import QUERIES

MEMBERS_PAGE_SIZE = 100  # app/queries/admin_user_index_query.rb find_users(limit = 100)
EPOCH_DAY = "1970-01-01"
# A day's user_visits row grows until the day is over (UserVisit is per server date, UTC); read a
# day once it has been over for this long.
DAY_SETTLED_AFTER = timedelta(hours=1)


def _parse_time(value: str) -> datetime:
    """Rails JSON (`...Z`) or PostgreSQL text of a `timestamp without time zone` (UTC in Discourse)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def last_settled_day(now: datetime | None = None) -> date:
    now = now or timezone.now()
    return (now - DAY_SETTLED_AFTER).astimezone(UTC).date() - timedelta(days=1)


def visit_events(record: dict, *, member: str) -> list[dict]:
    """One `user_visits` row as canonical events: the day's visit (with its minutes) and, when the
    member read posts that day, a read event counting them. Ids are stable per member and day."""
    day = str(record["visited_at"])[:10]
    user, username, occurred = record["user_id"], record["username"] or "", f"{day}T00:00:00+00:00"
    visit = {"event_id": f"visit:{user}:{day}", "member_id": member, "username": username, "kind": "visit"}
    events = [visit | {"occurred_at": occurred, "minutes": int(record["minutes"] or 0)}]
    pages_read = int(record["posts_read"] or 0)
    if pages_read:
        read = {"event_id": f"read:{user}:{day}", "member_id": member, "username": username, "kind": "read"}
        events.append(read | {"occurred_at": occurred, "quantity": pages_read})
    return events


class DiscourseConnector(Connector):
    def __init__(self, source) -> None:
        super().__init__(source)
        self.api_key = source.api_key or (os.environ.get(source.api_key_env, "") if source.api_key_env else "")
        self.http = HttpClient(
            base=source.base_url,
            headers={"Accept": "application/json", "Api-Key": self.api_key, "Api-Username": source.api_username},
            requests_per_minute=settings.COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE,
        )
        self.page_size = settings.COMMUNITY_DISCOURSE_PAGE_SIZE
        self.prefix = f"{source.slug}:"
        self.caught_up = False

    @property
    def requests(self) -> int:
        return self.http.count

    def member_id(self, discourse_id) -> str:
        return f"{self.prefix}{discourse_id}"

    # --- the run ---------------------------------------------------------------------------------

    def pages(self, cursor: dict, *, deadline: float) -> Iterator[Page]:
        if not self.api_key:
            where = (
                f"the environment variable {self.source.api_key_env} is empty in the worker's environment"
                if self.source.api_key_env
                else "no key is set"
            )
            raise ConnectorError(
                f"No API key for {self.source.base_url}: {where}. Set the source's API key, or the variable "
                "in the environment of the Celery worker (not only the web server), and run again."
            )
        queries = dict(cursor.get("queries") or {})
        if set(queries) != set(QUERIES):
            queries = self._install_queries()
        streams = (
            ("members", self._members),
            ("posts", self._posts),
            ("likes", self._likes),
            ("solutions", self._solutions),
            ("visits", self._visits),
            ("removals", self._removals),
        )
        first = True
        for stream, read in streams:
            if time.monotonic() > deadline:
                return
            page = None
            for page in read(dict(cursor.get(stream) or {}), queries, deadline):
                if first:
                    page.extra_cursor["queries"] = queries
                    first = False
                yield page
            if page is not None and not page.done:
                return
        self.caught_up = True

    # --- members ---------------------------------------------------------------------------------

    def _members(self, state: dict, queries: dict, deadline: float) -> Iterator[Page]:
        """Backfill: every page oldest first (resumable by page). Then: newest first, until a
        `created_at` already seen; the cursor moves only when that pass is complete."""
        if state.get("phase") != "incremental":
            page_number = int(state.get("page", 1))
            newest = state.get("newest", "")
            while True:
                rows = self._admin_users(page=page_number, asc=True)
                events, skipped = self._joined_events(rows)
                newest = max([newest, *(r["created_at"] for r in rows if r.get("created_at"))])
                if len(rows) < MEMBERS_PAGE_SIZE:
                    yield Page("members", events, {"phase": "incremental", "newest": newest}, skipped=skipped)
                    return
                page_number += 1
                done = time.monotonic() > deadline
                state = {"phase": "backfill", "page": page_number, "newest": newest}
                yield Page("members", events, state, False, skipped)
                if done:
                    return
        known = state.get("newest", "")
        newest = known
        page_number = 1
        while True:
            rows = self._admin_users(page=page_number, asc=False)
            fresh = [r for r in rows if r.get("created_at", "") >= known]
            events, skipped = self._joined_events(fresh)
            newest = max([newest, *(r["created_at"] for r in fresh)])
            finished = len(rows) < MEMBERS_PAGE_SIZE or len(fresh) < len(rows)
            if finished:
                yield Page("members", events, {"phase": "incremental", "newest": newest}, skipped=skipped)
                return
            yield Page("members", events, state, False, skipped)
            page_number += 1

    def _admin_users(self, *, page: int, asc: bool) -> list[dict]:
        params = {"show_emails": "true", "order": "created", "page": page}
        if asc:
            params["asc"] = "true"
        try:
            rows = self.http.get("/admin/users/list/active.json", params)
        except HttpError as error:
            raise self._explain(error, "the admin user list") from error
        if not isinstance(rows, list):
            raise ConnectorError(f"Unexpected answer from /admin/users/list/active.json: {str(rows)[:200]}")
        return rows

    def _joined_events(self, rows: list[dict]) -> tuple[list[dict], int]:
        events, skipped = [], 0
        for row in rows:
            # System user and bots have ids <= 0 (Discourse::SYSTEM_USER_ID = -1); staged users
            # were created by incoming email and never signed up.
            if not isinstance(row.get("id"), int) or row["id"] <= 0 or row.get("staged"):
                skipped += 1
                continue
            events.append(
                {
                    "event_id": f"joined:{row['id']}",
                    "member_id": self.member_id(row["id"]),
                    "username": row.get("username") or "",
                    "email": row.get("email") or "",
                    "kind": "joined",
                    "occurred_at": row.get("created_at"),
                }
            )
        return events, skipped

    # --- activity through the Data Explorer ------------------------------------------------------

    def _keyset(self, stream: str, state: dict, queries: dict, deadline: float, to_events) -> Iterator[Page]:
        after = int(state.get("after_id", 0))
        while True:
            columns, rows = self._run(stream, queries, {"after_id": after, "page_size": self.page_size})
            events, skipped = [], 0
            for row in rows:
                record = dict(zip(columns, row, strict=True))
                produced = to_events(record)
                skipped += not produced
                events.extend(produced)
                after = max(after, int(record["id"]))
            done = len(rows) < self.page_size
            yield Page(stream, events, {"after_id": after}, done, skipped)
            if done or time.monotonic() > deadline:
                return

    def _posts(self, state: dict, queries: dict, deadline: float) -> Iterator[Page]:
        def events(row: dict) -> list[dict]:
            return [
                {
                    "event_id": f"post:{row['id']}",
                    "member_id": self.member_id(row["user_id"]),
                    "username": row["username"] or "",
                    "kind": "post" if int(row["post_number"]) == 1 else "reply",
                    "occurred_at": _parse_time(row["created_at"]).isoformat(),
                }
            ]

        yield from self._keyset("posts", state, queries, deadline, events)

    def _likes(self, state: dict, queries: dict, deadline: float) -> Iterator[Page]:
        def events(row: dict) -> list[dict]:
            when = _parse_time(row["created_at"]).isoformat()
            liker, author = self.member_id(row["user_id"]), row["author_id"]
            given = {
                "event_id": f"like:{row['id']}:given",
                "member_id": liker,
                "username": row["username"] or "",
                "kind": "like_given",
                "occurred_at": when,
                "target_member_id": self.member_id(author) if author else "",
            }
            if not author:
                return [given]
            received = {
                "event_id": f"like:{row['id']}:received",
                "member_id": self.member_id(author),
                "username": row["author_username"] or "",
                "kind": "like_received",
                "occurred_at": when,
                "target_member_id": liker,
            }
            return [given, received]

        yield from self._keyset("likes", state, queries, deadline, events)

    def _solutions(self, state: dict, queries: dict, deadline: float) -> Iterator[Page]:
        """Solutions are sparse among user actions: each request scans a bounded range of ids and
        says how far it got (`scan_to`) and where the table ends (`last_id`)."""
        after = int(state.get("after_id", 0))
        while True:
            scan = settings.COMMUNITY_DISCOURSE_SOLUTIONS_SCAN
            params = {"after_id": after, "page_size": self.page_size, "scan": scan}
            columns, rows = self._run("solutions", queries, params)
            records = [dict(zip(columns, row, strict=True)) for row in rows]
            found = [r for r in records if r["id"] is not None]
            events = []
            for row in found:
                # One solution per answer, however often it was unaccepted and accepted again;
                # legacy rows without a post fall back to the action's own id.
                key = f"post:{row['target_post_id']}" if row["target_post_id"] else f"action:{row['id']}"
                events.append(
                    {
                        "event_id": f"solved:{key}",
                        "member_id": self.member_id(row["user_id"]),
                        "username": row["username"] or "",
                        "kind": "accepted_solution",
                        "occurred_at": _parse_time(row["created_at"]).isoformat(),
                    }
                )
            if len(found) >= self.page_size:
                after, done = max(int(r["id"]) for r in found), False
            else:
                scan_to = int(records[0]["scan_to"]) if records else after
                last_id = int(records[0]["last_id"]) if records else after
                after, done = max(after, scan_to), scan_to >= last_id
            yield Page("solutions", events, {"after_id": after}, done)
            if done or time.monotonic() > deadline:
                return

    def _visits(self, state: dict, queries: dict, deadline: float) -> Iterator[Page]:
        """Days that are over, in windows `(through, until]`, each window read in the order of
        `user_visits`' unique index `(user_id, visited_at)`."""
        through = state.get("through", EPOCH_DAY)
        until = state.get("until") or last_settled_day().isoformat()
        if until <= through:
            return
        after_user, after_day = int(state.get("after_user", 0)), state.get("after_day", EPOCH_DAY)
        while True:
            params = {
                "after_user": after_user,
                "after_day": after_day,
                "from_day": through,
                "until_day": until,
                "page_size": self.page_size,
            }
            columns, rows = self._run("visits", queries, params)
            events = []
            for row in rows:
                record = dict(zip(columns, row, strict=True))
                events += visit_events(record, member=self.member_id(record["user_id"]))
                after_user, after_day = int(record["user_id"]), str(record["visited_at"])[:10]
            if len(rows) < self.page_size:
                yield Page("visits", events, {"through": until})
                return
            state = {"through": through, "until": until, "after_user": after_user, "after_day": after_day}
            yield Page("visits", events, state, False)
            if time.monotonic() > deadline:
                return

    def _removals(self, state: dict, queries: dict, deadline: float) -> Iterator[Page]:
        """What was deleted on the forum after it may have been read: taken back, never counted.

        The first run starts two days back (anything removed before the backfill was never read,
        the activity queries leave deleted rows out)."""
        if not state:
            start = (timezone.now() - timedelta(days=2)).astimezone(UTC)
            state = {"after_time": start.strftime("%Y-%m-%d %H:%M:%S.%f"), "after_kind": "", "after_id": 0}
        while True:
            params = {**state, "page_size": self.page_size}
            columns, rows = self._run("removals", queries, params)
            ids = []
            for row in rows:
                record = dict(zip(columns, row, strict=True))
                if record["kind"] == "post":
                    ids.append(f"post:{record['id']}")
                elif record["kind"] == "like":
                    ids.extend([f"like:{record['id']}:given", f"like:{record['id']}:received"])
                else:
                    ids.append(f"solved:action:{record['id']}")
                    if record["target_post_id"]:
                        ids.append(f"solved:post:{record['target_post_id']}")
                state = {
                    "after_time": record["removed_at"],
                    "after_kind": record["kind"],
                    "after_id": int(record["id"]),
                }
            done = len(rows) < self.page_size
            reason = "deleted or undone on the forum"
            yield Page("removals", [], state, done, revoke=(ids, reason))
            if done or time.monotonic() > deadline:
                return

    def _run(self, stream: str, queries: dict, params: dict) -> tuple[list[str], list[list]]:
        query_id = queries[stream]
        try:
            data = self.http.post(
                f"/admin/plugins/explorer/queries/{query_id}/run",
                {"params": json.dumps({k: str(v) for k, v in params.items()}), "limit": str(self.page_size)},
            )
        except HttpError as error:
            if error.status == 404:
                raise ConnectorError(
                    f"The Data Explorer query #{query_id} ({QUERIES[stream][0]}) is gone from the forum. "
                    "Reset the source's cursor in the admin (the queries are installed again; nothing is counted "
                    "twice)."
                ) from error
            if error.status == 422:
                raise ConnectorError(
                    f"The Data Explorer query {QUERIES[stream][0]!r} failed on the forum: {error}. "
                    "The forum's database may differ from what the query expects (see docs/discourse.md)."
                ) from error
            raise self._explain(error, "the Data Explorer") from error
        if not isinstance(data, dict) or not data.get("success", False):
            raise ConnectorError(f"The Data Explorer query {QUERIES[stream][0]!r} failed: {str(data)[:300]}")
        return data["columns"], data["rows"]

    def _install_queries(self) -> dict:
        """Find the connector's queries on the forum by name, create the missing ones (admin only)."""
        try:
            listed = self.http.get("/admin/plugins/explorer/queries.json").get("queries") or []
            by_name = {q.get("name"): q.get("id") for q in listed if not q.get("hidden")}
            ids = {}
            for stream, (name, sql) in QUERIES.items():
                if by_name.get(name) is None:
                    created = self.http.post(
                        "/admin/plugins/explorer/queries",
                        {
                            "query[name]": name,
                            "query[description]": "Installed by MA Home's community connector; read-only.",
                            "query[sql]": sql,
                        },
                    )
                    by_name[name] = created["query"]["id"]
                ids[stream] = by_name[name]
        except HttpError as error:
            raise self._explain(error, "the Data Explorer") from error
        return ids

    def _explain(self, error: HttpError, what: str) -> ConnectorError:
        user = self.source.api_username
        refused = isinstance(error.body, dict) and error.body.get("error_type") == "invalid_access"
        if error.status == 403 and refused:
            return ConnectorError(
                f"The API user {user!r} is not an admin, or the key does not belong to it: Discourse refused "
                f"{what} ({error}). Use an API key of an admin user with scopes for the user list and "
                "Data Explorer (docs/discourse.md), then run again."
            )
        if error.status == 404 and error.path.startswith("/admin/users"):
            return ConnectorError(
                f"The API user {user!r} is not an admin: Discourse answered 404 to {what} ({error.path}), as it does "
                "for users who are not staff. Use an API key of an admin user (docs/discourse.md), then run again."
            )
        if error.status == 404 and error.path.startswith("/admin/plugins/explorer"):
            return ConnectorError(
                "The Data Explorer plugin is not enabled on the forum (404 on /admin/plugins/explorer). "
                "Enable the site setting data_explorer_enabled (docs/discourse.md), then run again."
            )
        if error.status == 429:
            return ConnectorError(
                f"The forum kept refusing requests with 429 (rate limit) on {error.path}. Lower "
                "COMMUNITY_DISCOURSE_REQUESTS_PER_MINUTE or raise max_admin_api_reqs_per_minute; the next run "
                "continues where this one stopped."
            )
        if error.status >= 500:
            return ConnectorError(
                f"The forum failed with {error} after retries. The next run continues where this one stopped."
            )
        return ConnectorError(f"Discourse refused {what}: {error}.")
