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
