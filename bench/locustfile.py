"""Mixed load: members browse (dashboard, contributions, opportunities, community), submit contributions
and sign up for opportunities. Run headless by `bench.run`; every unexpected answer is a failure.

Reads BENCH_LOCUST_DATA (JSON: sessions, opportunity slugs, an activity type id, cookie names).
"""

import json
import os
import random
import uuid
from datetime import UTC, datetime

from locust import HttpUser, between, task

DATA = json.loads(open(os.environ["BENCH_LOCUST_DATA"]).read())  # noqa: SIM115
SESSIONS = DATA["sessions"]
SLUGS = DATA["slugs"]


class Member(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        session = random.choice(SESSIONS)
        self.headers = {
            "X-Forwarded-Proto": "https",
            # gunicorn closes idle keep-alive connections after 2 s; a request racing that close would
            # count as an error of the client's making, so every request has its own connection.
            "Connection": "close",
            "Cookie": f"{DATA['session_cookie']}={session}; {DATA['csrf_cookie']}={DATA['csrf']}",
        }
        self.client.cookies.clear()

    def _get(self, path: str, name: str | None = None) -> None:
        with self.client.get(
            path, headers=self.headers, allow_redirects=False, catch_response=True, name=name or path
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")

    def _post(self, path: str, data: dict, expect: str, name: str) -> None:
        headers = {**self.headers, "X-CSRFToken": DATA["csrf"], "Referer": f"https://{DATA['host']}/"}
        with self.client.post(
            path, data=data, headers=headers, allow_redirects=False, catch_response=True, name=name
        ) as response:
            location = response.headers.get("Location", "")
            if response.status_code != 302 or expect not in location:
                response.failure(f"{response.status_code} {location}")

    @task(4)
    def dashboard(self) -> None:
        self._get("/")

    @task(2)
    def contributions(self) -> None:
        self._get("/contributions/")

    @task(3)
    def opportunities(self) -> None:
        self._get("/engagements/")

    @task(2)
    def opportunity(self) -> None:
        self._get(f"/engagements/{random.choice(SLUGS)}/", name="/engagements/[slug]/")

    @task(2)
    def community(self) -> None:
        self._get("/community/me/")

    @task(1)
    def submit_contribution(self) -> None:
        self._post(
            "/contributions/new/",
            {
                "activity_type": DATA["activity_type"],
                "title": "Load-test workshop",
                "description": "Submitted by the benchmark.",
                "occurred_on": datetime.now(UTC).date().isoformat(),
                "quantity": "1",
                # A workshop of its own each time: the same claim twice is refused, as a member's would be.
                "evidence_url": f"https://example.com/agenda/{uuid.uuid4().hex}",
                "action": "submit",
            },
            expect="/contributions/",
            name="POST /contributions/new/",
        )

    @task(1)
    def sign_up(self) -> None:
        slug = random.choice(SLUGS)
        self._post(f"/engagements/{slug}/sign-up/", {}, expect=f"/engagements/{slug}/", name="POST sign-up")
