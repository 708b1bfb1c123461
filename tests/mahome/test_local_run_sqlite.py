"""`scripts/serve`'s embedded default is SQLite: the demo must load there, set-based SQL included.

Every other test runs on PostgreSQL, so this one runs the real commands of the first run
(`migrate`, `seed_demo`) in a subprocess against a fresh SQLite file.
"""

import os
import subprocess
import sys
from pathlib import Path

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


def test_the_demo_loads_on_the_embedded_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mahome.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'mahome.sqlite3'}",
    }
    migrated = _manage("migrate", "--noinput", env=env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    seeded = _manage("seed_demo", env=env)
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
