"""Redis stopped under a running site and worker: members keep working, emails go out once it is back.

Real processes: gunicorn and a Celery worker against the test database, a throwaway Redis as the
broker (stopped, then started again on the same port), emails written to files by the worker.
"""

import email
import email.policy
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
import requests
from django.utils import timezone

from accounts.models import Notification
from contributions.models import Contribution
from engagements.models import SignUp
from tests.factories import (
    ActivityTypeFactory,
    EngagementActivityTypeFactory,
    MACertificationFactory,
    OpportunityFactory,
    ProgramYearFactory,
    UserFactory,
)
from tests.faults.helpers import (
    celery_worker,
    csrf_post,
    frozen_service,
    gunicorn,
    process_env,
    send_task,
    session_cookie,
    test_database_url,
    wait_for,
)
from tests.helpers import free_port, throwaway_redis

SWEEP = "accounts.tasks.notification_outbox_sweep"
# A request must come back well within this, broker or not (a hung request fails the test).
CLIENT_TIMEOUT = 8


def sent_emails(folder: Path) -> list[tuple[str, str]]:
    """(recipient, subject) of every email the file backend wrote."""
    found = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                message = email.message_from_bytes(chunk, policy=email.policy.default)
                found.append((str(message["To"]), str(message["Subject"])))
    return found


def _queue_drained(broker_url: str, queue: str) -> bool:
    """Nothing waiting in the queue and nothing delivered but unacknowledged (acks_late)."""
    client = redis.Redis.from_url(broker_url)
    try:
        return client.llen(queue) == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


def _member(email_address: str, first_name: str):
    user = UserFactory(email=email_address, first_name=first_name)
    MACertificationFactory(user=user, qualified_on=date(2019, 6, 1))
    return user


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_members_keep_working_while_redis_is_down_and_their_emails_go_out_once_after(tmp_path):
    this_year = timezone.localdate().year
    program_year = ProgramYearFactory(year=this_year)
    speaking = ActivityTypeFactory(program_year=program_year, points=50, evidence_required=False)
    opportunity = OpportunityFactory(
        title="Customer panel", activity_type=EngagementActivityTypeFactory(program_year=program_year)
    )
    ava, ben = _member("ava@example.com", "Ava"), _member("ben@example.com", "Ben")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    env = process_env(
        database_url=test_database_url(), broker_url=broker, FAULTS_QUEUE=queue, FAULTS_EMAIL_DIR=str(mail_dir)
    )
    ava_http, ben_http = requests.Session(), requests.Session()
    ava_http.cookies.update(session_cookie(ava))
    ben_http.cookies.update(session_cookie(ben))
    detail = f"/engagements/{opportunity.slug}/"
    signup_url = f"/engagements/{opportunity.slug}/sign-up/"

    with gunicorn(env, log=tmp_path / "web.log") as site, celery_worker(env, log=tmp_path / "worker.log") as worker:
        with throwaway_redis(port):
            assert requests.get(f"{site}/healthz", timeout=CLIENT_TIMEOUT).json()["broker"] == "ok"
            # Before the outage the normal path works: Ben's confirmation is emailed right away.
            response = csrf_post(ben_http, site + signup_url, {}, form_page=site + detail, timeout=CLIENT_TIMEOUT)
            assert response.status_code == 200 and "a slot is yours" in response.text
            wait_for(lambda: sent_emails(mail_dir), timeout=30, what="Ben's confirmation email")

        # --- Redis is down -------------------------------------------------------------------
        dashboard = ava_http.get(f"{site}/", timeout=CLIENT_TIMEOUT)
        assert dashboard.status_code == 200 and "Ava" in dashboard.text
        response = csrf_post(ava_http, site + signup_url, {}, form_page=site + detail, timeout=CLIENT_TIMEOUT)
        assert response.status_code == 200 and "a slot is yours" in response.text
        response = csrf_post(
            ava_http,
            f"{site}/contributions/new/",
            {
                "activity_type": speaking.pk,
                "title": "Talk at the Paris user group",
                "occurred_on": timezone.localdate().isoformat(),
                "quantity": "1",
                "action": "submit",
            },
            form_page=f"{site}/contributions/new/",
            timeout=CLIENT_TIMEOUT,
        )
        assert response.status_code == 200 and "was submitted for verification" in response.text
        notifications_page = ava_http.get(f"{site}/notifications/", timeout=CLIENT_TIMEOUT)
        assert notifications_page.status_code == 200
        health = requests.get(f"{site}/healthz", timeout=CLIENT_TIMEOUT)
        assert health.status_code == 503
        body = health.json()
        assert (body["status"], body["database"], body["broker"]) == ("degraded", "ok", "down")

        assert SignUp.objects.get(member=ava, opportunity=opportunity).state == SignUp.State.CONFIRMED
        assert Contribution.objects.get(member=ava).state == Contribution.State.SUBMITTED
        waiting = list(Notification.objects.filter(email_state=Notification.EmailState.PENDING))
        assert [n.user for n in waiting] == [ava], "the in-app copy is there; its email waits in the outbox"
        assert waiting[0].title in notifications_page.text
        assert len(sent_emails(mail_dir)) == 1

        # --- Redis is back, empty, on the same port ---------------------------------------------
        with throwaway_redis(port):
            # The sweep leaves a minute to the normal path; age the rows rather than wait.
            Notification.objects.filter(pk__in=[n.pk for n in waiting]).update(
                created_at=timezone.now() - timedelta(minutes=2)
            )
            # Two sweeps back to back: the second finds the same rows still pending and enqueues
            # them again; the row lock and the state check must send each email once.
            send_task(broker, SWEEP, queue=queue)
            send_task(broker, SWEEP, queue=queue)
            wait_for(
                lambda: not Notification.objects.filter(email_state=Notification.EmailState.PENDING).exists(),
                timeout=60,
                what="the outbox to be emptied",
            )
            wait_for(lambda: _queue_drained(broker, queue), timeout=30, what="the worker to finish every task")
            assert worker.poll() is None, "the worker rode out the outage"

    expected = sorted(
        (n.user.email, f"[MA Home] {n.title}")
        for n in Notification.objects.exclude(email_state=Notification.EmailState.SKIPPED).select_related("user")
    )
    assert len(expected) == 2
    assert sorted(sent_emails(mail_dir)) == expected, "each email exactly once"
    assert set(Notification.objects.values_list("email_state", flat=True)) == {Notification.EmailState.SENT}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_frozen_broker_does_not_hold_member_requests(tmp_path):
    """Redis accepts the connection and never answers: publishing gives up after the socket timeout."""
    program_year = ProgramYearFactory(year=timezone.localdate().year)
    opportunity = OpportunityFactory(activity_type=EngagementActivityTypeFactory(program_year=program_year))
    ava = _member("ava@example.com", "Ava")
    http = requests.Session()
    http.cookies.update(session_cookie(ava))
    with frozen_service() as broker:
        env = process_env(database_url=test_database_url(), broker_url=broker)
        with gunicorn(env, log=tmp_path / "web.log") as site:
            detail = f"{site}/engagements/{opportunity.slug}/"
            response = csrf_post(http, f"{detail}sign-up/", {}, form_page=detail, timeout=CLIENT_TIMEOUT)
            assert response.status_code == 200 and "a slot is yours" in response.text
            health = requests.get(f"{site}/healthz", timeout=CLIENT_TIMEOUT)
            assert health.status_code == 503 and health.json()["broker"] == "down"
    [notification] = Notification.objects.filter(user=ava)
    assert notification.email_state == Notification.EmailState.PENDING, "left in the outbox for the sweep"
