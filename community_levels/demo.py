"""Demo community: a few thousand members with realistic activity, every level populated.

Deterministic (random.Random with a fixed seed) and idempotent: the events have fixed ids under
the `demo` source, and a second run stops at the marker member. Written through the same bulk
ingestion path as real files, so it takes seconds on SQLite too.
"""

import random
from datetime import UTC, datetime, time, timedelta

from django.utils import timezone

from community_levels.ingestion import Record, ingest_stream
from community_levels.models import CommunityMember
from community_levels.recompute import levels_recompute
from community_levels.rules import Rules, load_rules, place

SEED = 2026
MEMBERS = 3000
SOURCE = "demo"
# Share of members aiming at each level, in ladder order (most members are passive, as in real communities).
SHARES = [30, 16, 10, 6, 8, 7, 5, 4, 4, 3, 2.5, 1.8, 1.2, 0.9]
DEMO_MAS = {
    "ava.member@example.com": ("ava-patel", "Respected Contributor"),
    "ben.member@example.com": ("ben-okafor", "Established Member"),
}
ACTIVE_MIX = [("reply", 6), ("post", 2), ("comment", 3), ("idea", 1), ("like_received", 3), ("like_given", 2)]


class _Member:
    """One generated member: its events and the metrics they add up to (as the SQL computes them)."""

    def __init__(self, external_id: str, username: str, email: str, today: int, rng: random.Random) -> None:
        self.external_id, self.username, self.email = external_id, username, email
        self.rng = rng
        self.today = today
        self.joined = today - rng.randint(20, 1200)
        self.events: list[tuple[str, int, int, int]] = [("joined", self.joined, 1, 0)]
        self.visit_days = {self.joined}

    def metrics(self, rules: Rules) -> dict[str, int]:
        days = {day for kind, day, _q, _m in self.events if kind != "like_received"}
        totals: dict[str, int] = {}
        cap = rules.caps.get("likes_given")
        for kind, _day, quantity, _m in self.events:
            counted = min(quantity, cap) if kind == "like_given" and cap else quantity
            totals[kind] = totals.get(kind, 0) + counted
        return {
            "member_days": max(days) - min(days) + 1,
            "days_visited": len(days),
            "reading_minutes": sum(m for kind, _d, _q, m in self.events if kind in ("visit", "read")),
            "pages_read": totals.get("read", 0),
            "posts": totals.get("post", 0),
            "replies": totals.get("reply", 0),
            "articles": totals.get("article", 0),
            "comments": totals.get("comment", 0),
            "ideas": totals.get("idea", 0),
            "accepted_solutions": totals.get("accepted_solution", 0),
            "likes_given": totals.get("like_given", 0),
            "likes_received": totals.get("like_received", 0),
        }

    def add(self, kind: str, quantity: int = 1, minutes: int = 0) -> None:
        day = self.rng.randint(self.joined, self.today)
        if kind in ("visit", "read"):
            for _ in range(20):
                if day not in self.visit_days:
                    break
                day = self.rng.randint(self.joined, self.today)
            self.visit_days.add(day)
        self.events.append((kind, day, quantity, minutes))


def _grow(member: _Member, target, rules: Rules) -> None:
    """Add activity until the member reaches the target level (passive: reading; active: contributing)."""
    rng = member.rng
    for _ in range(rng.randint(1, 4)):
        member.add("visit", minutes=rng.randint(2, 25))
    if target.tier == "active":
        for code, minimum in target.requirements:
            kind = {"accepted_solutions": "accepted_solution", "articles": "article"}.get(code, code)
            member.add(kind, quantity=minimum + rng.randint(0, max(1, minimum // 5)))
        member.add(rng.choice(["reply", "post", "comment", "idea"]))
    for _ in range(400):
        metrics = member.metrics(rules)
        placed = place(metrics, rules)
        if placed is not None and placed.rank >= target.rank:
            return
        if target.tier == "passive":
            member.add("visit", minutes=rng.randint(3, 40))
            if rng.random() < 0.3:
                member.add("read", quantity=rng.randint(2, 30), minutes=rng.randint(5, 30))
            continue
        score = sum(rules.weights[code] * value for code, value in metrics.items() if code not in _PASSIVE)
        gap = max(target.min_score - score, 1)
        kind = rng.choices([k for k, _w in ACTIVE_MIX], weights=[w for _k, w in ACTIVE_MIX])[0]
        metric = _METRIC_OF_KIND[kind]
        weight = rules.weights[metric] or 1
        quantity = max(1, int(float(gap / weight) * rng.uniform(0.15, 0.45)))
        if kind == "like_given":
            quantity = min(quantity, rules.caps.get("likes_given") or 10)
        member.add(kind, quantity=quantity)
        if rng.random() < 0.4:
            member.add("visit", minutes=rng.randint(2, 30))


_PASSIVE = {"member_days", "days_visited", "reading_minutes", "pages_read"}
_METRIC_OF_KIND = {
    "reply": "replies",
    "post": "posts",
    "comment": "comments",
    "idea": "ideas",
    "like_received": "likes_received",
    "like_given": "likes_given",
}


def _records(members: list[_Member]):
    line = 0
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for member in members:
        for number, (kind, day, quantity, minutes) in enumerate(member.events):
            line += 1
            moment = datetime.combine((epoch + timedelta(days=day)).date(), time(9 + number % 10, number % 60), UTC)
            target = ""
            if kind.startswith("like_"):
                target = f"demo-{(line * 7919) % MEMBERS + 1}"
                if target == member.external_id:
                    target = "demo-0"
            yield (
                line,
                Record(
                    event_id=f"{member.external_id}-{number}",
                    member_id=member.external_id,
                    kind=kind,
                    occurred_at=moment,
                    quantity=quantity,
                    minutes=minutes,
                    email=member.email,
                    username=member.username,
                    target_member_id=target,
                ),
            )


def _ensure_community_activity_types(today) -> None:
    from contributions.models import ActivityType, ProgramYear
    from contributions.services import program_year_for_date

    program_year = program_year_for_date(day=today)
    if program_year is None:
        program_year, _created = ProgramYear.objects.get_or_create(
            year=today.year,
            defaults={
                "opens_on": today.replace(month=1, day=1),
                "deadline": today.replace(year=today.year + 1, month=1, day=1),
            },
        )
    for code, name, points, cap, category in (
        ("community-replies", "Community forum replies", 2, 50, ActivityType.Category.ENABLEMENT),
        (
            "community-accepted-solutions",
            "Accepted solutions on the Community",
            5,
            50,
            ActivityType.Category.ENABLEMENT,
        ),
        ("community-ideas", "Ideas posted on the Community", 5, 25, ActivityType.Category.BRAND),
    ):
        ActivityType.objects.get_or_create(
            program_year=program_year,
            code=code,
            defaults={
                "name": name,
                "points": points,
                "annual_cap": cap,
                "category": category,
                "tracking": ActivityType.Tracking.COMMUNITY,
                "evidence_required": False,
                "description": "Counted automatically from your Community activity.",
            },
        )


def seed(*, stdout) -> None:
    if CommunityMember.objects.filter(external_id="demo-1").exists():
        stdout.write("community_levels: demo community already there")
        return
    today_date = timezone.localdate()
    _ensure_community_activity_types(today_date)
    rules = load_rules()
    if not rules.levels:
        stdout.write("community_levels: no ladder configured; skipped")
        return
    rng = random.Random(SEED)
    today = (today_date - datetime(1970, 1, 1, tzinfo=UTC).date()).days
    by_name = {level.name: level for level in rules.levels}
    shares = SHARES[: len(rules.levels)] + [1] * max(0, len(rules.levels) - len(SHARES))
    members: list[_Member] = []
    for index in range(1, MEMBERS + 1):
        # Every level gets its share, and at least a handful of members.
        target = rules.levels[(index - 1) % len(rules.levels)] if index <= 3 * len(rules.levels) else None
        if target is None:
            target = rng.choices(rules.levels, weights=shares)[0]
        member = _Member(f"demo-{index}", f"member{index:04d}", "", today, rng)
        _grow(member, target, rules)
        members.append(member)
    for email, (username, level_name) in DEMO_MAS.items():
        member = _Member(f"demo-{username}", username, email, today, rng)
        target = by_name.get(level_name, rules.levels[0])
        _grow(member, target, rules)
        if target.tier == "active":
            member.events.append(("reply", today - 3, 7, 0))
            member.events.append(("idea", today - 10, 2, 0))
        members.append(member)
    result = ingest_stream(_records(members), source=SOURCE)
    recomputed = levels_recompute(full=True, reason="Demo data")
    populated = sum(1 for count in recomputed.levels.values() if count)
    stdout.write(
        f"community_levels: {len(members)} community members, {result.imported} events, "
        f"{populated}/{len(rules.levels)} levels populated"
    )
