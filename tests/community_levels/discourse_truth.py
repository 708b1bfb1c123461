"""A test forum built at random (seeded) and what a correct import of it holds, computed from the
forum's own rows in Python, independently of the connector, its SQL and the ingestion pipeline.

The metrics follow the spec's definitions as the recompute applies them (community_levels/metrics.py):
days visited and member days over every activity day except likes received; reading minutes are
the member's whole reading time in minutes; likes given count at most the daily cap per day.
"""

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from tests.community_levels.discourse_fake import ADMIN_KEY, FakeDiscourse


def build_forum(forum: FakeDiscourse, *, members: int, seed: int = 12, today: date | None = None) -> None:
    """Members joined over the last 400 days; topics, replies, likes, solutions and daily visits,
    with deleted posts, private messages, a deleted user, legacy solutions without a post and
    reading times that are not whole minutes."""
    rng = random.Random(seed)
    today = today or datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=400), datetime.min.time(), tzinfo=UTC)
    forum.add_user(-1, "system", created_at=start - timedelta(days=30), admin=True, moderator=True)
    forum.add_user(1, "forum_admin", created_at=start - timedelta(days=20), admin=True)
    forum.api_users[ADMIN_KEY] = "forum_admin"
    ids = list(range(2, members + 2))
    for uid in ids:
        joined = start + timedelta(
            days=rng.randint(0, 380), seconds=rng.randint(0, 86399), microseconds=rng.randint(0, 999) * 1000
        )
        forum.add_user(uid, f"member_{uid}", created_at=joined, email=f"Member.{uid}@Example.org")
    deleted = ids[-1]
    forum.user(deleted).deleted = True
    users = {u.id: u for u in forum.users}

    def moment_after(uid: int) -> datetime:
        joined = users[uid].created_at
        span = max(int((datetime.combine(today, datetime.min.time(), tzinfo=UTC) - joined).total_seconds()) - 1, 1)
        return joined + timedelta(seconds=rng.randint(0, span))

    posts = []
    for _ in range(members * 2):
        author = rng.choice(ids)
        archetype = "private_message" if rng.random() < 0.08 else "regular"
        topic = forum.add_topic(author, archetype=archetype, deleted_at=None)
        first = forum.add_post(topic, author, moment_after(author))
        posts.append(first)
        for _reply in range(rng.randint(0, 4)):
            replier = rng.choice(ids)
            when = max(first.created_at, moment_after(replier))
            deleted_at = when + timedelta(hours=2) if rng.random() < 0.07 else None
            posts.append(forum.add_post(topic, replier, when, deleted_at=deleted_at))
        if rng.random() < 0.03:
            topic.deleted_at = first.created_at + timedelta(days=1)
    for post in posts:
        for liker in rng.sample(ids, rng.randint(0, 5)):
            if liker != post.user_id:
                forum.add_like(post, liker, max(post.created_at, moment_after(liker)) + timedelta(minutes=5))
    for post in rng.sample(posts, len(posts) // 12):
        if post.post_number > 1 and post.user_id != 1:
            forum.add_solution(post, 1, post.created_at + timedelta(hours=3), legacy=rng.random() < 0.1)
    for uid in ids:
        joined_day = users[uid].created_at.date()
        for day_offset in sorted(
            rng.sample(range((today - joined_day).days + 1), min(25, (today - joined_day).days + 1))
        ):
            day = joined_day + timedelta(days=day_offset)
            forum.add_visit(uid, day, posts_read=rng.randint(0, 40), time_read=rng.randint(0, 3600))


def truth(forum: FakeDiscourse, *, likes_cap: int | None, through: date) -> dict[int, dict[str, int]]:
    """Per Discourse user id: the metrics a correct import holds (visits of days up to `through`)."""
    alive = {u.id for u in forum.users if not u.deleted and u.id > 0}
    topics = {t.id: t for t in forum.topics}
    posts = {p.id: p for p in forum.posts}

    def counted(post) -> bool:
        topic = topics[post.topic_id]
        return (
            post.deleted_at is None
            and topic.deleted_at is None
            and topic.archetype == "regular"
            and post.post_type == 1
        )

    days: dict[int, set[int]] = defaultdict(set)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    seconds: dict[int, int] = defaultdict(int)
    likes_per_day: dict[tuple[int, int], int] = defaultdict(int)
    epoch = date(1970, 1, 1)

    def day_of(moment) -> int:
        moment = (
            moment if isinstance(moment, date) and not isinstance(moment, datetime) else moment.astimezone(UTC).date()
        )
        return (moment - epoch).days

    for user in forum.users:
        if user.id in alive:
            days[user.id].add(day_of(user.created_at))
    for post in forum.posts:
        if post.user_id in alive and counted(post):
            counts[post.user_id]["posts" if post.post_number == 1 else "replies"] += 1
            days[post.user_id].add(day_of(post.created_at))
    for like in forum.likes:
        post = posts[like.post_id]
        if like.deleted_at is not None or like.user_id not in alive or not counted(post):
            continue
        likes_per_day[(like.user_id, day_of(like.created_at))] += 1
        days[like.user_id].add(day_of(like.created_at))
        if post.user_id in alive:
            counts[post.user_id]["likes_received"] += 1
    for (uid, _day), n in likes_per_day.items():
        counts[uid]["likes_given"] += min(n, likes_cap) if likes_cap is not None else n
    solved = set()
    for solution in forum.solutions:
        post = posts.get(solution.target_post_id) if solution.target_post_id else None
        topic = topics[solution.target_topic_id]
        if solution.user_id not in alive or (post is not None and post.deleted_at is not None):
            continue
        if topic.deleted_at is not None or topic.archetype != "regular":
            continue
        key = ("post", post.id) if post else ("action", solution.id)
        if key in solved:
            continue
        solved.add(key)
        counts[solution.user_id]["accepted_solutions"] += 1
        days[solution.user_id].add(day_of(solution.created_at))
    for visit in forum.visits:
        if visit.user_id not in alive or visit.visited_at > through:
            continue
        days[visit.user_id].add(day_of(visit.visited_at))
        seconds[visit.user_id] += visit.time_read
        counts[visit.user_id]["pages_read"] += visit.posts_read
    result = {}
    for uid in alive:
        member_days = max(days[uid]) - min(days[uid]) + 1 if days[uid] else 0
        result[uid] = {
            "member_days": member_days,
            "days_visited": len(days[uid]),
            "reading_minutes": seconds[uid] // 60,
            "pages_read": counts[uid]["pages_read"],
            "posts": counts[uid]["posts"],
            "replies": counts[uid]["replies"],
            "articles": 0,
            "comments": 0,
            "ideas": 0,
            "accepted_solutions": counts[uid]["accepted_solutions"],
            "likes_given": counts[uid]["likes_given"],
            "likes_received": counts[uid]["likes_received"],
        }
    return result
