"""A stand-in Discourse forum for the connector tests, built from Discourse's own source.

The forum's data lives in Python lists (what the tests compute their truth from) and, for the
Data Explorer, in real PostgreSQL tables with Discourse's table and column names, in a private
schema of the test database: the SQL the connector installs runs for real against them, exactly
as the plugin runs it (wrapped in `WITH query AS (...) SELECT * FROM query LIMIT n`).

Every response shape below names the Discourse file it is taken from. Behaviours reproduced:
- admin API rate limit: `max_admin_api_reqs_per_minute = 60` (config/discourse_defaults.conf),
  answered with 429, `Retry-After` and `extras.wait_seconds` (spec/integration/rate_limiting_spec.rb);
- authentication (lib/auth/default_current_user_provider.rb): an unknown key is refused with 403
  `invalid_access`; no key is an anonymous request;
- admin routes: /admin/users is behind the staff constraint (config/routes.rb), so a non-staff or
  anonymous user gets 404; the Data Explorer controller's `ensure_admin` answers 403
  (app/controllers/application_controller.rb `ensure_admin` raises Discourse::InvalidAccess);
- /directory_items.json refuses page > PAGE_LIMIT = 10 with 400 and always sends a
  `load_more_directory_items` string (app/controllers/directory_items_controller.rb);
- /user_actions.json rows as `UserAction.stream` builds them (app/models/user_action.rb):
  `target_user_id` is the stream's owner, `user_id`/`username` the post's author, `acting_user_id`
  the actor; deleted posts and private messages filtered by `apply_common_filters`.
"""

import json
import math
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

import psycopg2
from django.db import connection

ADMIN_KEY = "admin-key"
MODERATOR_KEY = "moderator-key"
USER_KEY = "user-key"

# app/controllers/directory_items_controller.rb
DIRECTORY_PAGE_SIZE = 50
DIRECTORY_PAGE_LIMIT = 10
# app/controllers/user_actions_controller.rb: `per_chunk = 30`
USER_ACTIONS_PER_CHUNK = 30
# app/queries/admin_user_index_query.rb: `find_users(limit = 100)`, `page` counted from 1
ADMIN_USERS_PAGE_SIZE = 100
# plugins/discourse-data-explorer: `data_explorer_query_result_limit` default
EXPLORER_DEFAULT_LIMIT = 1000
EXPLORER_MAX_LIMIT = 10_000  # plugin.rb QUERY_RESULT_MAX_LIMIT

LIKE, WAS_LIKED, NEW_TOPIC, REPLY, SOLVED = 1, 2, 4, 5, 15  # app/models/user_action.rb


def iso_ms(moment: datetime) -> str:
    """Rails' JSON time format: milliseconds and a Z (ActiveSupport::TimeWithZone#as_json)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class User:
    id: int
    username: str
    email: str
    created_at: datetime
    admin: bool = False
    moderator: bool = False
    deleted: bool = False


@dataclass
class Topic:
    id: int
    user_id: int | None
    archetype: str = "regular"  # or "private_message" (lib/archetype.rb)
    deleted_at: datetime | None = None


@dataclass
class Post:
    id: int
    topic_id: int
    post_number: int
    user_id: int | None
    created_at: datetime
    deleted_at: datetime | None = None
    post_type: int = 1  # Post.types[:regular]


@dataclass
class Like:
    """A post_actions row with post_action_type_id = 2 (PostActionType.types[:like])."""

    id: int
    post_id: int
    user_id: int
    created_at: datetime
    deleted_at: datetime | None = None


@dataclass
class Solution:
    """A user_actions row of discourse-solved (action_type 15) on the answer's author's stream."""

    id: int
    user_id: int  # the answer's author (the stream's owner)
    acting_user_id: int  # who accepted
    target_post_id: int | None  # legacy rows carry no post
    target_topic_id: int
    created_at: datetime


@dataclass
class Visit:
    """A user_visits row: one per member and day, `time_read` in seconds (app/models/user_visit.rb)."""

    id: int
    user_id: int
    visited_at: date
    posts_read: int
    time_read: int


@dataclass
class FakeDiscourse:
    users: list[User] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    likes: list[Like] = field(default_factory=list)
    solutions: list[Solution] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    api_users: dict = field(default_factory=dict)  # key -> username
    rate_limit: int = 60
    rate_window: float = 60.0
    delay: float = 0.0
    requests: list = field(default_factory=list)
    queries: dict = field(default_factory=dict)  # id -> {"name", "sql"}
    fail_next: list = field(default_factory=list)  # (path prefix, status) answered once
    rate_limited: int = 0
    url: str = ""

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.dirty = True
        self._hits: list[float] = []
        self.schema = f"fake_discourse_{uuid.uuid4().hex[:10]}"
        self.db = None

    # --- building the forum -------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        return next(u for u in self.users if u.id == user_id)

    def add_user(self, user_id: int, username: str, *, created_at: datetime, email: str = "", **extra) -> User:
        user = User(user_id, username, email or f"{username}@forum.example", created_at, **extra)
        self.users.append(user)
        self.dirty = True
        return user

    def add_topic(self, user_id: int | None, **extra) -> Topic:
        topic = Topic(len(self.topics) + 1, user_id, **extra)
        self.topics.append(topic)
        self.dirty = True
        return topic

    def add_post(self, topic: Topic, user_id: int | None, created_at: datetime, **extra) -> Post:
        number = sum(1 for p in self.posts if p.topic_id == topic.id) + 1
        post = Post(len(self.posts) + 1, topic.id, number, user_id, created_at, **extra)
        self.posts.append(post)
        self.dirty = True
        return post

    def add_like(self, post: Post, user_id: int, created_at: datetime, **extra) -> Like:
        # Discourse refuses to like one's own post (PostActionCreator: `guardian.post_can_act?`).
        assert post.user_id != user_id, "Discourse forbids self-likes"
        like = Like(len(self.likes) + 1, post.id, user_id, created_at, **extra)
        self.likes.append(like)
        self.dirty = True
        return like

    def add_solution(self, post: Post, accepted_by: int, created_at: datetime, *, legacy: bool = False) -> Solution:
        # user_actions ids are shared by every action type: solutions are sparse among them
        solution = Solution(
            (len(self.solutions) + 1) * 10,
            post.user_id,
            accepted_by,
            None if legacy else post.id,
            post.topic_id,
            created_at,
        )
        self.solutions.append(solution)
        self.dirty = True
        return solution

    def add_visit(self, user_id: int, day: date, *, posts_read: int, time_read: int) -> Visit:
        visit = Visit(len(self.visits) + 1, user_id, day, posts_read, time_read)
        self.visits.append(visit)
        self.dirty = True
        return visit

    def rename(self, user_id: int, username: str) -> None:
        self.user(user_id).username = username
        self.dirty = True

    # --- the Data Explorer's database -----------------------------------------------------------

    def open_database(self) -> None:
        settings = connection.settings_dict
        self.db = psycopg2.connect(
            dbname=settings["NAME"],
            user=settings.get("USER") or "postgres",
            host=settings.get("HOST") or "127.0.0.1",
            port=settings.get("PORT") or 5432,
            password=settings.get("PASSWORD") or None,
        )
        self.db.autocommit = True
        with self.db.cursor() as cur:
            cur.execute(f"CREATE SCHEMA {self.schema}")
            cur.execute(f"SET search_path TO {self.schema}")
            # Column names and types from the schema annotations at the end of each model file
            # (app/models/user.rb, user_email.rb, topic.rb, post.rb, post_action.rb, user_action.rb,
            # user_visit.rb); `timestamp without time zone` holds UTC, as in Discourse.
            cur.execute(
                "CREATE TABLE users (id integer PRIMARY KEY, username varchar NOT NULL, "
                "username_lower varchar NOT NULL, created_at timestamp NOT NULL, admin boolean NOT NULL, "
                "moderator boolean NOT NULL, staged boolean NOT NULL DEFAULT false);"
                "CREATE TABLE user_emails (id serial PRIMARY KEY, user_id integer NOT NULL, email varchar NOT NULL, "
                '"primary" boolean NOT NULL);'
                "CREATE TABLE topics (id integer PRIMARY KEY, user_id integer, archetype varchar NOT NULL, "
                "deleted_at timestamp, visible boolean NOT NULL DEFAULT true);"
                "CREATE TABLE posts (id integer PRIMARY KEY, topic_id integer NOT NULL, user_id integer, "
                "post_number integer NOT NULL, post_type integer NOT NULL, created_at timestamp NOT NULL, "
                "deleted_at timestamp, hidden boolean NOT NULL DEFAULT false);"
                "CREATE TABLE post_actions (id integer PRIMARY KEY, post_id integer NOT NULL, "
                "user_id integer NOT NULL, "
                "post_action_type_id integer NOT NULL, created_at timestamp NOT NULL, deleted_at timestamp);"
                "CREATE TABLE user_actions (id integer PRIMARY KEY, action_type integer NOT NULL, "
                "user_id integer NOT NULL, target_topic_id integer, target_post_id integer, target_user_id integer, "
                "acting_user_id integer, created_at timestamp NOT NULL);"
                "CREATE TABLE user_visits (id integer PRIMARY KEY, user_id integer NOT NULL, visited_at date NOT NULL, "
                "posts_read integer DEFAULT 0, mobile boolean DEFAULT false, time_read integer NOT NULL DEFAULT 0);"
                "CREATE UNIQUE INDEX index_user_visits_on_user_id_and_visited_at ON user_visits (user_id, visited_at);"
            )

    def close_database(self) -> None:
        if self.db is not None:
            with self.db.cursor() as cur:
                cur.execute(f"DROP SCHEMA {self.schema} CASCADE")
            self.db.close()

    def _load(self) -> None:
        from psycopg2.extras import execute_values

        def naive(moment):
            return moment.astimezone(UTC).replace(tzinfo=None) if moment else None

        live = [u for u in self.users if not u.deleted]
        with self.db.cursor() as cur:
            cur.execute(f"SET search_path TO {self.schema}")
            cur.execute("TRUNCATE users, user_emails, topics, posts, post_actions, user_actions, user_visits")
            tables = {
                "users (id, username, username_lower, created_at, admin, moderator)": [
                    (u.id, u.username, u.username.lower(), naive(u.created_at), u.admin, u.moderator) for u in live
                ],
                'user_emails (user_id, email, "primary")': [(u.id, u.email, True) for u in live],
                "topics (id, user_id, archetype, deleted_at)": [
                    (t.id, t.user_id, t.archetype, naive(t.deleted_at)) for t in self.topics
                ],
                "posts (id, topic_id, user_id, post_number, post_type, created_at, deleted_at)": [
                    (p.id, p.topic_id, p.user_id, p.post_number, p.post_type, naive(p.created_at), naive(p.deleted_at))
                    for p in self.posts
                ],
                "post_actions (id, post_id, user_id, post_action_type_id, created_at, deleted_at)": [
                    (like.id, like.post_id, like.user_id, 2, naive(like.created_at), naive(like.deleted_at))
                    for like in self.likes
                ],
                "user_actions (id, action_type, user_id, target_topic_id, target_post_id, "
                "acting_user_id, created_at)": [
                    (
                        s.id,
                        SOLVED,
                        s.user_id,
                        s.target_topic_id,
                        s.target_post_id,
                        s.acting_user_id,
                        naive(s.created_at),
                    )
                    for s in self.solutions
                ],
                "user_visits (id, user_id, visited_at, posts_read, time_read)": [
                    (v.id, v.user_id, v.visited_at, v.posts_read, v.time_read) for v in self.visits
                ],
            }
            for table, rows in tables.items():
                if rows:
                    execute_values(cur, f"INSERT INTO {table} VALUES %s", rows, page_size=5000)
        self.dirty = False

    def run_query(self, sql: str, params: dict, limit: int) -> tuple[list[str], list[list]]:
        """plugins/discourse-data-explorer lib/discourse_data_explorer/data_explorer.rb `run_query`:
        parameters declared in a `-- [params]` header, the query wrapped in a CTE with a LIMIT,
        results as text (`pg_result.values`)."""
        declared = {name: kind for kind, name in re.findall(r"^--\s*(\w+)\s+:(\w+)", sql, flags=re.MULTILINE)}
        values = {}
        for name, kind in declared.items():
            raw = params.get(name)
            if raw is None:
                default = re.search(rf"^--\s*\w+\s+:{name}\s*=\s*(\S+)", sql, flags=re.MULTILINE)
                raw = default.group(1) if default else None
            values[name] = int(raw) if kind == "int" else date.fromisoformat(str(raw)) if kind == "date" else raw
        body = re.sub(r"(?<!:):(\w+)", lambda m: f"%({m.group(1)})s" if m.group(1) in declared else m.group(0), sql)
        wrapped = f"WITH query AS (\n{body}\n) SELECT * FROM query\nLIMIT {int(limit)}"
        with self.lock:
            if self.dirty:
                self._load()
            with self.db.cursor() as cur:
                # "SET TRANSACTION READ ONLY" and "SET LOCAL statement_timeout = 10000", then a rollback
                cur.execute("BEGIN READ ONLY")
                try:
                    cur.execute("SET LOCAL statement_timeout = 10000")
                    cur.execute(f"SET LOCAL search_path TO {self.schema}")
                    cur.execute(wrapped, values)
                    columns = [d.name for d in cur.description]
                    rows = [[_as_json(v) for v in row] for row in cur.fetchall()]
                finally:
                    cur.execute("ROLLBACK")
        return columns, rows

    # --- rate limit ----------------------------------------------------------------------------

    def over_limit(self) -> int | None:
        """Seconds to wait when the admin API limit is reached (lib/rate_limiter.rb sliding window)."""
        now = time.monotonic()
        with self.lock:
            self._hits = [t for t in self._hits if now - t < self.rate_window]
            if len(self._hits) >= self.rate_limit:
                return max(1, math.ceil(self.rate_window - (now - self._hits[0])))
            self._hits.append(now)
        return None


def _as_json(value):
    """A value as the plugin's JSON carries it: Rails' PostgreSQL adapter decodes integers and
    timestamps (`add_pg_decoders`), Time as ActiveSupport JSON (ms and Z), other types as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, datetime):
        return iso_ms(value.replace(tzinfo=UTC) if value.tzinfo is None else value)
    return str(value)


def _legacy_action_rows(forum: FakeDiscourse, owner: User, types: set[int]) -> list[dict]:
    """`UserAction.stream` for one user, newest first (app/models/user_action.rb)."""
    posts = {p.id: p for p in forum.posts}
    topics = {t.id: t for t in forum.topics}
    users = {u.id: u for u in forum.users if not u.deleted}
    rows = []

    def row(action_type, post: Post | None, topic: Topic, acting: User, created_at: datetime, action_id: int) -> dict:
        author = users.get(post.user_id if post else topic.user_id)
        return {
            "action_type": action_type,
            "created_at": iso_ms(created_at),
            "excerpt": "…",
            "avatar_template": "/letter_avatar_proxy/v4/letter/a/{size}.png",
            "acting_avatar_template": "/letter_avatar_proxy/v4/letter/b/{size}.png",
            "slug": "a-topic",
            "topic_id": topic.id,
            "target_user_id": owner.id,
            "target_name": owner.username.title(),
            "target_username": owner.username,
            "post_number": post.post_number if post else 1,
            "post_id": post.id if post else None,
            "username": author.username if author else None,
            "name": author.username.title() if author else None,
            "user_id": author.id if author else None,
            "acting_username": acting.username,
            "acting_name": acting.username.title(),
            "acting_user_id": acting.id,
            "title": "A topic",
            "deleted": False,
            "hidden": False,
            "post_type": 1,
            "action_code": None,
            "category_id": 3,
            "closed": False,
            "archived": False,
            "_id": action_id,
        }

    def visible(post: Post | None, topic: Topic) -> bool:
        # apply_common_filters: no deleted topics/posts, no private messages for other users
        return topic.deleted_at is None and (post is None or post.deleted_at is None) and topic.archetype == "regular"

    for post in forum.posts:
        topic = topics[post.topic_id]
        if post.user_id == owner.id and visible(post, topic) and {NEW_TOPIC, REPLY} & types:
            kind = NEW_TOPIC if post.post_number == 1 else REPLY
            if kind in types:
                rows.append(row(kind, post, topic, owner, post.created_at, post.id * 10 + kind))
    for like in forum.likes:
        post = posts[like.post_id]
        topic = topics[post.topic_id]
        if like.deleted_at or not visible(post, topic):
            continue
        liker = users.get(like.user_id)
        if like.user_id == owner.id and LIKE in types:
            rows.append(row(LIKE, post, topic, owner, like.created_at, like.id * 10 + LIKE))
        if post.user_id == owner.id and WAS_LIKED in types and liker:
            rows.append(row(WAS_LIKED, post, topic, liker, like.created_at, like.id * 10 + WAS_LIKED))
    for solution in forum.solutions:
        post = posts.get(solution.target_post_id) if solution.target_post_id else None
        topic = topics[solution.target_topic_id]
        if solution.user_id == owner.id and SOLVED in types and visible(post, topic):
            acting = users.get(solution.acting_user_id) or owner
            rows.append(row(SOLVED, post, topic, acting, solution.created_at, solution.id * 10 + SOLVED))
    rows.sort(key=lambda r: (r["created_at"], r["_id"]), reverse=True)
    for r in rows:
        del r["_id"]
    return rows


def make_handler(forum: FakeDiscourse):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _json(self, status: int, body, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _not_found(self):
            # app/controllers/application_controller.rb rescue_from Discourse::NotFound
            return self._json(
                404, {"errors": ["The requested URL or resource could not be found."], "error_type": "not_found"}
            )

        def _invalid_access(self):
            # Discourse::InvalidAccess -> 403 (application_controller.rb rescue_discourse_actions)
            return self._json(
                403,
                {"errors": ["You are not permitted to view the requested resource."], "error_type": "invalid_access"},
            )

        def _handle(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            form = {}
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            key = self.headers.get("Api-Key")
            forum.requests.append((method, url.path, {**query, **form}))
            if forum.delay:
                time.sleep(forum.delay)
            for index, (prefix, status) in enumerate(forum.fail_next):
                if url.path.startswith(prefix):
                    del forum.fail_next[index]
                    return self._json(status, {"errors": ["Something went wrong."], "error_type": "unknown"})
            # lib/auth/default_current_user_provider.rb: a key that matches no ApiKey is refused.
            if key is not None and key not in forum.api_users:
                return self._invalid_access()
            username = forum.api_users.get(key)
            if key is not None and self.headers.get("Api-Username") != username:
                return self._invalid_access()
            acting = next((u for u in forum.users if u.username == username), None) if username else None
            if key is not None:
                # lib/auth/default_current_user_provider.rb: admin API requests are limited per site.
                wait = forum.over_limit()
                if wait is not None:
                    forum.rate_limited += 1
                    return self._json(
                        429,
                        {
                            "errors": [
                                f"You’ve performed this action too many times. Please wait {wait} seconds "
                                "before trying again."
                            ],
                            "error_type": "rate_limit",
                            "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
                        },
                        {"Retry-After": str(wait)},
                    )
            is_admin = bool(acting and acting.admin)
            is_staff = bool(acting and (acting.admin or acting.moderator))
            path = url.path
            if method == "GET" and path == "/directory_items.json":
                return self._directory(query)
            if method == "GET" and path == "/user_actions.json":
                return self._user_actions(query)
            match = re.fullmatch(r"/u/([^/]+)/summary\.json", path)
            if method == "GET" and match:
                return self._summary(unquote(match.group(1)))
            match = re.fullmatch(r"/admin/users/list/(\w+)\.json", path)
            if method == "GET" and match:
                # config/routes.rb: namespace :admin, constraints: StaffConstraint.new
                return self._admin_users(query) if is_staff else self._not_found()
            if path.startswith("/admin/plugins/explorer/"):
                # discourse_data_explorer/query_controller.rb: before_action :ensure_admin
                if not is_admin:
                    return self._invalid_access()
                return self._explorer(method, path, form)
            return self._not_found()

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

        # app/controllers/directory_items_controller.rb + app/serializers/directory_item_serializer.rb
        def _directory(self, query):
            try:
                page = int(query.get("page", "0"))
            except ValueError:
                page = -1
            if page < 0 or page > DIRECTORY_PAGE_LIMIT:  # fetch_int_from_params(:page, max: PAGE_LIMIT)
                return self._json(
                    400,
                    {
                        "errors": ["You supplied invalid parameters to the request: page"],
                        "error_type": "invalid_parameters",
                    },
                )
            items = []
            for u in sorted(forum.users, key=lambda u: u.id):
                if u.id <= 0:
                    continue
                items.append(
                    {
                        "id": u.id,
                        "likes_received": 0,
                        "likes_given": 0,
                        "topics_entered": 0,
                        "topic_count": 0,
                        "post_count": 0,
                        "posts_read": 0,
                        "days_visited": 0,
                        # a deleted user's directory row outlives them until the next refresh
                        "user": None
                        if u.deleted
                        else {
                            "id": u.id,
                            "username": u.username,
                            "name": u.username.title(),
                            "avatar_template": "/a/{size}.png",
                        },
                    }
                )
            chunk = items[page * DIRECTORY_PAGE_SIZE : (page + 1) * DIRECTORY_PAGE_SIZE]
            meta = {
                "last_updated_at": iso_ms(datetime.now(UTC)),
                "total_rows_directory_items": len(items),
                "load_more_directory_items": f"/directory_items.json?order={query.get('order', 'likes_received')}"
                f"&page={page + 1}&period={query.get('period', 'all')}",
            }
            return self._json(200, {"directory_items": chunk, "meta": meta})

        # app/controllers/user_actions_controller.rb
        def _user_actions(self, query):
            owner = next((u for u in forum.users if u.username == query.get("username") and not u.deleted), None)
            if owner is None:
                return self._not_found()  # fetch_user_from_params raises Discourse::NotFound
            types = {int(t) for t in query.get("filter", "").split(",") if t.strip()} or {
                LIKE,
                WAS_LIKED,
                NEW_TOPIC,
                REPLY,
            }
            offset = int(query.get("offset", "0"))
            rows = _legacy_action_rows(forum, owner, types)[offset : offset + USER_ACTIONS_PER_CHUNK]
            return self._json(200, {"user_actions": rows})

        # app/serializers/user_summary_serializer.rb
        def _summary(self, username):
            owner = next((u for u in forum.users if u.username == username and not u.deleted), None)
            if owner is None:
                return self._not_found()
            visits = [v for v in forum.visits if v.user_id == owner.id]
            return self._json(
                200,
                {
                    "topics": [],
                    "badges": [],
                    "user_summary": {
                        "likes_given": 0,
                        "likes_received": 0,
                        "topics_entered": 0,
                        "posts_read_count": sum(v.posts_read for v in visits),
                        "days_visited": len(visits),
                        "topic_count": 0,
                        "post_count": 0,
                        "time_read": sum(v.time_read for v in visits),
                        "recent_time_read": 0,
                        "bookmark_count": 0,
                        "can_see_summary_stats": True,
                        "solved_count": 0,
                    },
                },
            )

        # app/controllers/admin/users_controller.rb#index + app/queries/admin_user_index_query.rb,
        # rows shaped as discourse_api's spec/fixtures/user_list.json
        def _admin_users(self, query):
            page = max(int(query.get("page", "1")) - 1, 0)
            users = [u for u in forum.users if not u.deleted]
            if query.get("order") == "created":
                users.sort(key=lambda u: u.created_at, reverse=not query.get("asc"))
            else:
                users.sort(key=lambda u: (u.created_at, u.username), reverse=True)
            chunk = users[page * ADMIN_USERS_PAGE_SIZE : (page + 1) * ADMIN_USERS_PAGE_SIZE]
            rows = []
            for u in chunk:
                row = {
                    "id": u.id,
                    "username": u.username,
                    "name": u.username.title(),
                    "avatar_template": f"/letter_avatar/{u.username}/{{size}}/2.png",
                    "active": True,
                    "admin": u.admin,
                    "moderator": u.moderator,
                    "last_seen_at": None,
                    "last_emailed_at": None,
                    "created_at": iso_ms(u.created_at),
                    "last_seen_age": None,
                    "last_emailed_age": None,
                    "created_at_age": 1.0,
                    "trust_level": 1,
                    "manual_locked_trust_level": None,
                    "title": None,
                    "time_read": 0,
                    "staged": False,
                    "days_visited": 0,
                    "posts_read_count": 0,
                    "topics_entered": 0,
                    "post_count": 0,
                }
                if query.get("show_emails") == "true":
                    row["email"] = u.email
                    row["secondary_emails"] = []
                rows.append(row)
            return self._json(200, rows)

        # discourse_data_explorer/query_controller.rb: index, create, run
        def _explorer(self, method, path, form):
            if method == "GET" and path == "/admin/plugins/explorer/queries.json":
                queries = [
                    {"id": qid, "name": q["name"], "sql": q["sql"], "hidden": False} for qid, q in forum.queries.items()
                ]
                return self._json(200, {"queries": queries})
            if method == "POST" and path in ("/admin/plugins/explorer/queries", "/admin/plugins/explorer/queries.json"):
                qid = max(forum.queries, default=0) + 1
                forum.queries[qid] = {"name": form["query[name]"], "sql": form["query[sql]"]}
                return self._json(200, {"query": {"id": qid, "name": form["query[name]"], "sql": form["query[sql]"]}})
            match = re.fullmatch(r"/admin/plugins/explorer/queries/(-?\d+)/run(\.json)?", path)
            if method == "POST" and match:
                stored = forum.queries.get(int(match.group(1)))
                if stored is None:
                    return self._not_found()  # Query.find raises ActiveRecord::RecordNotFound -> 404
                if ";" in stored["sql"]:  # data_explorer.rb run_query: `if query.sql =~ /;/`
                    return self._json(422, {"success": False, "errors": ["Semicolons are not allowed."]})
                params = json.loads(form.get("params") or "{}")
                limit = form.get("limit")
                limit = EXPLORER_DEFAULT_LIMIT if not limit else min(int(limit), EXPLORER_MAX_LIMIT)
                started = time.monotonic()
                try:
                    columns, rows = forum.run_query(stored["sql"], params, limit)
                except psycopg2.Error as error:
                    return self._json(422, {"success": False, "errors": [f"{type(error).__name__}: {error}"]})
                return self._json(
                    200,
                    {
                        "success": True,
                        "errors": [],
                        "duration": round((time.monotonic() - started) * 1000, 1),
                        "result_count": len(rows),
                        "params": params,
                        "columns": columns,
                        "default_limit": EXPLORER_DEFAULT_LIMIT,
                        "relations": {},
                        "colrender": {},
                        "rows": rows,
                    },
                )
            return self._not_found()

    return Handler


def start(forum: FakeDiscourse) -> ThreadingHTTPServer:
    forum.open_database()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(forum))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    forum.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


def stop(forum: FakeDiscourse, server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()
    forum.close_database()


def day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def yesterday() -> date:
    return (datetime.now(UTC) - timedelta(days=1)).date()
