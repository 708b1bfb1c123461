"""PostgreSQL restarted under a running web server: a friendly 503, then healed, no web restart."""

import subprocess
import sys
import time

import pytest
import requests

from tests.faults.helpers import gunicorn, process_env
from tests.helpers import BASE_DIR
from tests.throwaway import throwaway_postgres

pytestmark = pytest.mark.slow

MAKE_SESSION = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user(email="restart@example.com", password="x" * 12, first_name="Rita")
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def test_requests_fail_cleanly_during_a_postgres_restart_and_succeed_after(tmp_path):
    with throwaway_postgres() as pg:
        env = process_env(database_url=pg.url, settings="mahome.settings.test", DJANGO_CONN_MAX_AGE="60")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
        session_key = (
            subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", MAKE_SESSION],
                cwd=BASE_DIR,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )

        # Persistent connections, as in production, so the restart really kills a live connection.
        with gunicorn(env | {"MAHOME_TEST_CONN_MAX_AGE": "60"}, log=tmp_path / "web.log") as site:
            url = f"{site}/"
            cookies = {"sessionid": session_key}
            before = requests.get(url, cookies=cookies, timeout=10)
            assert before.status_code == 200
            assert "Welcome back, Rita" in before.text

            pg.stop("fast")
            during = requests.get(url, cookies=cookies, timeout=10)
            assert during.status_code == 503
            assert "back in a moment" in during.text
            assert "Traceback" not in during.text
            health = requests.get(f"{site}/healthz", timeout=10)
            assert health.status_code == 503
            assert health.json()["database"] == "down"

            pg.start()
            deadline = time.monotonic() + 20
            after = None
            while time.monotonic() < deadline:
                after = requests.get(url, cookies=cookies, timeout=10)
                if after.status_code == 200:
                    break
                time.sleep(0.25)
            assert after is not None and after.status_code == 200
            assert "Welcome back, Rita" in after.text
