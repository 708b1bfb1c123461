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
  stream (`user_actions.user_id`, app/models/user_action.rb), on posts still there.
- visits: `user_visits` (one row per member and day, `time_read` in seconds), for days that are
  over. Minutes are the difference of whole minutes of the running total, so a member's minutes
  add up to their whole reading time in minutes, never truncated day by day.
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
SELECT ua.id, ua.user_id, u.username, ua.target_post_id, ua.created_at
FROM user_actions ua
JOIN users u ON u.id = ua.user_id
LEFT JOIN posts p ON p.id = ua.target_post_id
LEFT JOIN topics t ON t.id = ua.target_topic_id
WHERE ua.id > :after_id
  AND ua.action_type = 15
  AND ua.user_id > 0
  AND p.deleted_at IS NULL
  AND (t.id IS NULL OR (t.deleted_at IS NULL AND t.archetype = 'regular'))
ORDER BY ua.id
LIMIT :page_size"""

VISITS = """-- [params]
-- int :after_id = 0
-- date :from_day = 1970-01-01
-- date :until_day = 1970-01-01
-- int :page_size = 1000
SELECT v.id, v.user_id, u.username, v.visited_at, v.posts_read,
  (v.running / 60) - ((v.running - v.seconds) / 60) AS minutes
FROM (
  SELECT uv.id, uv.user_id, uv.visited_at, COALESCE(uv.posts_read, 0) AS posts_read,
    uv.time_read AS seconds,
    SUM(uv.time_read) OVER (PARTITION BY uv.user_id ORDER BY uv.visited_at, uv.id) AS running
  FROM user_visits uv
  WHERE uv.visited_at <= :until_day
    AND uv.user_id IN (
      SELECT user_id FROM user_visits WHERE visited_at > :from_day AND visited_at <= :until_day
    )
) v
JOIN users u ON u.id = v.user_id
WHERE v.visited_at > :from_day
  AND v.id > :after_id
  AND v.user_id > 0
ORDER BY v.id
LIMIT :page_size"""

# Names carry a version: a changed query gets a new name, so a forum never runs an old one by mistake.
QUERIES = {
    "posts": ("MA Home activity: posts and replies (v1)", POSTS),
    "likes": ("MA Home activity: likes (v1)", LIKES),
    "solutions": ("MA Home activity: accepted solutions (v1)", SOLUTIONS),
    "visits": ("MA Home activity: daily visits and reading (v1)", VISITS),
}
