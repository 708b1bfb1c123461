"""Building canonical activity files for the community tests."""

import csv
import json
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db import connection

from community_levels.ingestion import COLUMNS

BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event(n: int, member: str, kind: str, *, days: int = 0, **extra) -> dict:
    data = {
        "event_id": f"e{n}",
        "member_id": member,
        "kind": kind,
        "occurred_at": (BASE_TIME + timedelta(days=days)).isoformat(),
    }
    data.update(extra)
    return data


def write_jsonl(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def write_csv(path: Path, events: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for e in events:
            writer.writerow({column: e.get(column, "") for column in COLUMNS})
    return path


def sample_events(members: int = 5, per_member: int = 8) -> list[dict]:
    kinds = ["visit", "read", "reply", "post", "accepted_solution", "like_given", "like_received", "comment"]
    events, n = [], 0
    for m in range(members):
        for i in range(per_member):
            n += 1
            kind = kinds[(m + i) % len(kinds)]
            extra = {"minutes": 5} if kind in ("visit", "read") else {}
            if kind.startswith("like"):
                extra["target_member_id"] = f"m{(m + 1) % members}"
            events.append(event(n, f"m{m}", kind, days=i, email=f"m{m}@example.org", **extra))
    return events


def reference_metrics(items, cap: int | None) -> dict[str, int]:
    """Every metric in plain Python (by code), the oracle the recompute's SQL is checked against, from
    anything with `day`, `kind`, `quantity` and `minutes`: a member's events or its daily totals. Likes
    given are capped per day."""
    days = {i.day for i in items if i.kind != "like_received"}
    likes_per_day: dict[int, int] = defaultdict(int)
    for i in items:
        if i.kind == "like_given":
            likes_per_day[i.day] += i.quantity

    def total(kind):
        return sum(i.quantity for i in items if i.kind == kind)

    return {
        "member_days": (max(days) - min(days) + 1) if days else 0,
        "days_visited": len(days),
        "reading_minutes": sum(i.minutes for i in items if i.kind in ("visit", "read")),
        "pages_read": total("read"),
        "posts": total("post"),
        "replies": total("reply"),
        "articles": total("article"),
        "comments": total("comment"),
        "ideas": total("idea"),
        "accepted_solutions": total("accepted_solution"),
        "likes_given": sum(min(q, cap) if cap else q for q in likes_per_day.values()),
        "likes_received": total("like_received"),
    }


def in_thread(work, outcome: dict, *, wait: float, done: str = "done") -> threading.Thread:
    """Run `work` on a thread of its own (its own database connection, closed after), waiting up to `wait`
    seconds for it: `outcome[done]` is True when it finished, `outcome["error"]` what it raised."""

    def run():
        try:
            work()
            outcome[done] = True
        except Exception as error:
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=wait)
    return thread
