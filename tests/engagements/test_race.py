"""The race: 200 members press "Sign up" at the same moment for 10 slots, over real HTTP."""

import threading

import pytest
import requests
from django.contrib.auth.backends import ModelBackend
from django.test import Client

from accounts.models import User
from engagements import selectors
from engagements.models import SignUp
from tests.factories import OpportunityFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MEMBERS = 200
SLOTS = 10
ROUNDS = 3
CSRF = "racecsrftoken0123456789abcdefghi"  # 32 characters: an unmasked CSRF secret


def _signed_in_sessions(base_url: str) -> list[tuple[User, requests.Session]]:
    users = User.objects.bulk_create(
        User(email=f"racer{i:03d}@example.com", first_name=f"Racer{i}", password="!") for i in range(MEMBERS)
    )
    sessions = []
    for user in users:
        client = Client()
        client.force_login(user, backend=f"{ModelBackend.__module__}.{ModelBackend.__name__}")
        http = requests.Session()
        http.cookies.set("sessionid", client.cookies["sessionid"].value, domain="127.0.0.1")
        http.cookies.set("csrftoken", CSRF, domain="127.0.0.1")
        # One request per connection: no idle keep-alive connection may pin a server thread.
        http.headers.update({"X-CSRFToken": CSRF, "Connection": "close", "Referer": base_url + "/engagements/"})
        sessions.append((user, http))
    return sessions


def _race(url: str, sessions) -> list[int]:
    barrier = threading.Barrier(len(sessions))
    statuses: list[int] = []
    lock = threading.Lock()

    def press(http: requests.Session) -> None:
        barrier.wait()
        try:
            status = http.post(url, allow_redirects=False, timeout=120).status_code
        except requests.RequestException:
            status = 599  # a connection refused or reset counts as a server failure
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=press, args=(http,)) for _, http in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_200_concurrent_signups_for_10_slots_never_overbook(bounded_live_server):
    sessions = _signed_in_sessions(bounded_live_server.url)
    for _round in range(ROUNDS):
        opportunity = OpportunityFactory(capacity=SLOTS, waitlist_enabled=True)
        statuses = _race(f"{bounded_live_server.url}/engagements/{opportunity.slug}/sign-up/", sessions)

        assert len(statuses) == MEMBERS
        assert not [s for s in statuses if s >= 500], statuses
        assert set(statuses) == {302}
        signups = list(SignUp.objects.filter(opportunity=opportunity).order_by("pk"))
        assert len(signups) == MEMBERS
        assert len({s.member_id for s in signups}) == MEMBERS
        confirmed = [s for s in signups if s.state == SignUp.State.CONFIRMED]
        waitlisted = [s for s in signups if s.state == SignUp.State.WAITLISTED]
        assert len(confirmed) == SLOTS
        assert len(waitlisted) == MEMBERS - SLOTS
        # Served in order: every slot went to a request served before any waitlisted one.
        assert max(s.pk for s in confirmed) < min(s.pk for s in waitlisted)
        positions = [p for _, p in selectors.waitlist_positions(opportunity=opportunity)]
        assert positions == list(range(1, MEMBERS - SLOTS + 1))
        # What each member sees on their own page is that same gapless line, in the order served.
        shown = [
            selectors.signup_current_for_member(opportunity=opportunity, member=s.member).waitlist_position
            for s in waitlisted
        ]
        assert shown == list(range(1, MEMBERS - SLOTS + 1))
