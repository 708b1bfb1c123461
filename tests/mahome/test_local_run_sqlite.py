"""`scripts/serve`'s embedded default is SQLite: the demo must load there, set-based SQL included.

Every other test runs on PostgreSQL, so this one runs the real commands of the first run
(`migrate`, `seed_demo`) in a subprocess against a fresh SQLite file.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """A fresh SQLite file after the first run's `migrate` and `seed_demo` (once for the module: ~1.5 min)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mahome.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'mahome.sqlite3'}",
    }
    migrated = _manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = _manage("seed_demo", env=env)
    return env, seeded


def test_the_demo_loads_on_the_embedded_sqlite_database(first_run):
    env, seeded = first_run
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "14/14 levels populated" in seeded.stdout
    assert "Demo data is ready." in seeded.stdout
    again = _manage("seed_demo", env=env)  # the recompute's credits and levels hold on a second run
    assert again.returncode == 0, again.stderr[-3000:]
    # Set-based notifications (level-ups, segment messages, reminders) have a portable path too.
    notified = _manage("shell", "-c", NOTIFY_MANY, env=env)
    assert notified.returncode == 0, notified.stderr[-3000:]
    assert notified.stdout.strip().splitlines()[-1].split() == ["created", "2", "again", "0"]


NOTIFY_MANY = """
from accounts.models import User
from accounts.services import notifications_create_many
ids = list(User.objects.order_by("pk").values_list("pk", flat=True)[:2])
args = dict(kind="maintenance.segment", user_ids=ids, titles=["Hello", "Hello"], bodies=["b", "b"],
            dedupe_keys=["sqlite-check", "sqlite-check"])
print("created", notifications_create_many(**args), "again", notifications_create_many(**args))
"""


def test_every_page_of_the_demo_answers_on_sqlite_and_the_year_report_counts_as_python_does(first_run):
    """The pages a newcomer opens on the first day: every member page (as MAs), the admin's index, every
    admin list and change page (as a superuser, a program admin and a verifier), the year report of
    every year with each filter and its exports, the roster by this year's status. None may be a 5xx.
    The report's SQL standing (counts, status filters) and the maintained totals equal `member_years`."""
    env, seeded = first_run
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    walked = _manage("shell", "-c", WALK, env=env)
    assert walked.returncode == 0, walked.stderr[-3000:]
    *problems, summary = walked.stdout.strip().splitlines()
    words = summary.split()
    assert words[0] == "VISITED" and int(words[1]) > 500, summary
    assert int(words[-1]) > 5, summary  # MAs in the current year: the counts compared are not empty
    assert words[2:6] == ["FAILURES", "0", "MISMATCHES", "0"], "\n".join([*[p for p in problems if p], summary])


# Run by `manage.py shell -c` on the first run's database (a module of its own, not a test: it needs the
# demo data and the local settings). Prints each 5xx, each difference between the SQL standing and
# Python's, then one summary line.
WALK = (Path(__file__).parent / "sqlite_first_day.py").read_text()


def test_stored_status_counts_follow_a_write_on_sqlite(first_run):
    """The counts stored under the standing's version (`contributions.standing.stored_status_counts`): SQLite's
    row triggers (migration 0020) move the version, so an opt-out is counted at once, as on PostgreSQL."""
    env, seeded = first_run
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    checked = _manage("shell", "-c", STORED_COUNTS, env=env)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert checked.stdout.strip().splitlines()[-1].split() == ["stored", "True", "changed", "True", "fresh", "True"]


STORED_COUNTS = """
from django.utils import timezone
from contributions import rules, selectors, standing
from contributions.models import OptOut, StatusCounts
from contributions.selectors.members import certified_in
year = selectors.program_year_current()
today = timezone.localdate()
def fresh():
    sql, params = standing.standing_rows(program_year=year, today=today)
    return standing.status_counts(sql=sql, params=params)
before = selectors.program_year_status_counts(program_year=year, today=today)
stored = StatusCounts.objects.exists() and before == fresh()
members = certified_in(program_year=year).exclude(opt_outs__program_year=year)
member = members.exclude(review_outcomes__program_year=year).first()
OptOut.objects.create(member=member, program_year=year, reason="sqlite check")
after = selectors.program_year_status_counts(program_year=year, today=today)
changed = after.get(rules.OPTED_OUT, 0) == before.get(rules.OPTED_OUT, 0) + 1
print("stored", stored, "changed", changed, "fresh", after == fresh())
"""
