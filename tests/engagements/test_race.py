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


def _admin_session(base_url: str) -> requests.Session:
    """A program admin's session (password and MFA passed) on the live server, as a browser would hold it."""
    from accounts.roles import PROGRAM_ADMIN
    from tests.factories import StaffFactory
    from tests.helpers import with_mfa

    staff = with_mfa(StaffFactory(email="race-admin@example.com", groups=[PROGRAM_ADMIN]))
    client = Client()
    client.force_login(staff, backend=f"{ModelBackend.__module__}.{ModelBackend.__name__}")
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value, domain="127.0.0.1")
    http.cookies.set("csrftoken", CSRF, domain="127.0.0.1")
    http.headers.update({"X-CSRFToken": CSRF, "Connection": "close", "Referer": base_url + "/admin/"})
    http.django_client = client  # to read the change form the admin renders
    return http


RACERS = 60
# (capacity, lowered to): the 10 -> 6, and wider ones where the admin's save often wins.
CAPACITY_CHANGES = [(10, 6), (20, 12), (30, 20), (40, 30), (60, 45)]


def _lower_capacity_during_signups(base_url: str, members, admin: requests.Session, opportunity, data) -> tuple:
    """One round: RACERS members press "Sign up" while the admin's save goes out in the middle of them."""
    change_url = f"{base_url}/admin/engagements/opportunity/{opportunity.pk}/change/"
    signup_url = f"{base_url}/engagements/{opportunity.slug}/sign-up/"
    barrier = threading.Barrier(len(members) + 1)
    statuses: list[int] = []
    admin_answer: list[requests.Response] = []
    lock = threading.Lock()

    def press(http: requests.Session) -> None:
        barrier.wait()
        try:
            status = http.post(signup_url, allow_redirects=False, timeout=120).status_code
        except requests.RequestException:
            status = 599
        with lock:
            statuses.append(status)

    def lower() -> None:
        barrier.wait()
        admin_answer.append(admin.post(change_url, data=data, allow_redirects=False, timeout=120))

    half = len(members) // 2
    threads = [threading.Thread(target=press, args=(http,)) for _, http in members[:half]]
    threads.append(threading.Thread(target=lower))
    threads += [threading.Thread(target=press, args=(http,)) for _, http in members[half:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, admin_answer[0]


def test_lowering_the_capacity_in_the_admin_while_members_sign_up_never_overbooks(bounded_live_server):
    """Issue 11, finding 10: the capacity lowered in the admin while members press "Sign up" over real HTTP.

    Whoever wins the opportunity's row lock, the end state keeps held slots within the capacity:
    either the lowered capacity was saved and later sign-ups were waitlisted, or the admin was
    told how many slots are held and the capacity stayed.
    """
    from tests.engagements.test_capacity import admin_change_data

    members = _signed_in_sessions(bounded_live_server.url)[:RACERS]
    admin = _admin_session(bounded_live_server.url)
    outcomes = []
    for capacity, lowered in CAPACITY_CHANGES:
        opportunity = OpportunityFactory(capacity=capacity, waitlist_enabled=True)
        data = admin_change_data(admin.django_client, opportunity, capacity=lowered)
        statuses, answer = _lower_capacity_during_signups(bounded_live_server.url, members, admin, opportunity, data)

        assert set(statuses) == {302}, statuses
        assert answer.status_code in (200, 302), answer.status_code
        opportunity.refresh_from_db()
        held = SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES).count()
        waitlisted = SignUp.objects.filter(opportunity=opportunity, state=SignUp.State.WAITLISTED).count()
        assert held + waitlisted == RACERS
        assert held <= opportunity.capacity, f"{held} slots held for a capacity of {opportunity.capacity}"
        if answer.status_code == 302:
            assert opportunity.capacity == lowered
        else:
            assert opportunity.capacity == capacity
            assert "slots are already held; the capacity cannot go below that." in answer.text
        outcomes.append((f"{capacity}->{lowered}", answer.status_code, opportunity.capacity, held))
    print(f"\nadmin lowering the capacity during {RACERS} sign-ups; (change, status, capacity, held):", outcomes)
