"""The Data Explorer queries the Discourse connector installs on the forum and runs in bulk.

Each query reads one kind of activity for the whole forum, after a keyset cursor, in pages, in
the plugin's way: parameters declared in a `-- [params]` header, the SQL run wrapped as
`WITH query AS (<sql>) SELECT * FROM query LIMIT n` (discourse-data-explorer
`lib/discourse_data_explorer/data_explorer.rb`), rows returned as text.

What is counted follows Discourse's own source:
- posts and replies: `posts` of regular topics (`topics.archetype = 'regular'`, so private
  messages are out), `post_type = 1` (no whispers or small actions), neither the post nor the
  topic deleted, real users only (`user_id > 0`; the system user and bots are negative). Read by
  `posts.id`, not by time: a reply approved late from the review queue is inserted then, with a
  new id, whatever its `created_at` says, so it is never behind the cursor.
- likes: `post_actions` of type 2 (PostActionType like), not undone, on a counted post; the liker
  gives, the post's author receives (a deleted author receives nothing).
- accepted solutions: discourse-solved's `user_actions` rows of type 15 on the answer author's
  stream (`user_actions.user_id`, app/models/user_action.rb), on posts still there. Solutions are
  rare among user actions, so each request scans at most `:scan` ids of the table (the plugin
  runs every query under `statement_timeout = 10000`) and reports how far it scanned.
- visits: `user_visits` (one row per member and day, `time_read` in seconds), for days that are
  over, paged by its unique index `(user_id, visited_at)`. Minutes are the difference of whole
  minutes of the member's running total, so a member's minutes add up to their whole reading time
  in minutes, never truncated day by day; the running total reads only the page's members' rows.

- removals: posts deleted (or in a deleted topic), likes undone (or on a deleted post) and
  solutions on deleted posts, by the time they were removed, so what was read before is taken
  back (the events stay, marked revoked).

No query has a semicolon: the plugin refuses them (`run_query`: `query.sql =~ /;/`).
"""

POSTS = """-- [params]
-- int :after_id = 0
-- int :page_size = 1000
SELECT p.id, p.user_id, u.username, p.post_number, p.created_at
FROM posts p
JOIN topics t ON t.id = p.topic_id
JOIN users u ON u.id = p.user_id
WHERE p.id > :after_id
  AND p.user_id > 0
  AND p.deleted_at IS NULL
  AND t.deleted_at IS NULL
  AND t.archetype = 'regular'
  AND p.post_type = 1
ORDER BY p.id
LIMIT :page_size"""

LIKES = """-- [params]
-- int :after_id = 0
-- int :page_size = 1000
SELECT pa.id, pa.user_id, lu.username, pu.id AS author_id, pu.username AS author_username, pa.created_at
FROM post_actions pa
JOIN posts p ON p.id = pa.post_id
JOIN topics t ON t.id = p.topic_id
JOIN users lu ON lu.id = pa.user_id
LEFT JOIN users pu ON pu.id = p.user_id AND pu.id > 0
WHERE pa.id > :after_id
  AND pa.post_action_type_id = 2
  AND pa.deleted_at IS NULL
  AND pa.user_id > 0
  AND p.deleted_at IS NULL
  AND t.deleted_at IS NULL
  AND t.archetype = 'regular'
ORDER BY pa.id
LIMIT :page_size"""

SOLUTIONS = """-- [params]
-- int :after_id = 0
-- int :page_size = 1000
-- int :scan = 500000
WITH bounds AS (
  SELECT LEAST(:after_id + :scan, (SELECT COALESCE(MAX(id), 0) FROM user_actions)) AS scan_to,
    (SELECT COALESCE(MAX(id), 0) FROM user_actions) AS last_id
), found AS (
  SELECT ua.id, ua.user_id, u.username, ua.target_post_id, ua.created_at
  FROM user_actions ua
  JOIN users u ON u.id = ua.user_id
  LEFT JOIN posts p ON p.id = ua.target_post_id
  LEFT JOIN topics t ON t.id = ua.target_topic_id
  WHERE ua.id > :after_id
    AND ua.id <= (SELECT scan_to FROM bounds)
    AND ua.action_type = 15
    AND ua.user_id > 0
    AND p.deleted_at IS NULL
    AND (t.id IS NULL OR (t.deleted_at IS NULL AND t.archetype = 'regular'))
  ORDER BY ua.id
  LIMIT :page_size
)
SELECT found.id, found.user_id, found.username, found.target_post_id, found.created_at, bounds.scan_to, bounds.last_id
FROM bounds LEFT JOIN found ON true
ORDER BY found.id"""

VISITS = """-- [params]
-- int :after_user = 0
-- date :after_day = 1970-01-01
-- date :from_day = 1970-01-01
-- date :until_day = 1970-01-01
-- int :page_size = 1000
WITH page AS (
  SELECT uv.id, uv.user_id, uv.visited_at, COALESCE(uv.posts_read, 0) AS posts_read, uv.time_read
  FROM user_visits uv
  WHERE uv.visited_at > :from_day
    AND uv.visited_at <= :until_day
    AND (uv.user_id, uv.visited_at) > (:after_user, :after_day)
    AND uv.user_id > 0
  ORDER BY uv.user_id, uv.visited_at
  LIMIT :page_size
)
SELECT page.id, page.user_id, u.username, page.visited_at, page.posts_read,
  (r.running / 60) - ((r.running - page.time_read) / 60) AS minutes
FROM page
JOIN users u ON u.id = page.user_id
JOIN LATERAL (
  SELECT SUM(h.time_read) AS running
  FROM user_visits h
  WHERE h.user_id = page.user_id AND h.visited_at <= page.visited_at
) r ON true
ORDER BY page.user_id, page.visited_at"""

REMOVALS = """-- [params]
-- string :after_time = 1970-01-01 00:00:00
-- string :after_kind = -
-- int :after_id = 0
-- int :page_size = 1000
SELECT kind, id, target_post_id, to_char(removed_at, 'YYYY-MM-DD HH24:MI:SS.US') AS removed_at
FROM (
  SELECT 'post' AS kind, p.id, NULL::integer AS target_post_id, GREATEST(p.deleted_at, t.deleted_at) AS removed_at
  FROM posts p
  JOIN topics t ON t.id = p.topic_id
  WHERE p.deleted_at > CAST(:after_time AS timestamp) OR t.deleted_at > CAST(:after_time AS timestamp)
  UNION ALL
  SELECT 'like', pa.id, NULL, GREATEST(pa.deleted_at, p.deleted_at, t.deleted_at)
  FROM post_actions pa
  JOIN posts p ON p.id = pa.post_id
  JOIN topics t ON t.id = p.topic_id
  WHERE pa.post_action_type_id = 2
    AND (pa.deleted_at > CAST(:after_time AS timestamp) OR p.deleted_at > CAST(:after_time AS timestamp)
      OR t.deleted_at > CAST(:after_time AS timestamp))
  UNION ALL
  SELECT 'solution', ua.id, ua.target_post_id, GREATEST(p.deleted_at, t.deleted_at)
  FROM user_actions ua
  LEFT JOIN posts p ON p.id = ua.target_post_id
  JOIN topics t ON t.id = ua.target_topic_id
  WHERE ua.action_type = 15
    AND (p.deleted_at > CAST(:after_time AS timestamp) OR t.deleted_at > CAST(:after_time AS timestamp))
) removed
WHERE (removed_at, kind, id) > (CAST(:after_time AS timestamp), :after_kind, :after_id)
ORDER BY removed_at, kind, id
LIMIT :page_size"""

# Names carry a version: a changed query gets a new name, so a forum never runs an old one by mistake.
QUERIES = {
    "posts": ("MA Home activity: posts and replies (v1)", POSTS),
    "likes": ("MA Home activity: likes (v1)", LIKES),
    "solutions": ("MA Home activity: accepted solutions (v1)", SOLUTIONS),
    "visits": ("MA Home activity: daily visits and reading (v1)", VISITS),
    "removals": ("MA Home activity: deleted posts and undone likes (v1)", REMOVALS),
}
