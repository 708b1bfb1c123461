"""A first run that reads like a product (issue 13, finding 10).

`scripts/serve` buried its address and demo sign-ins under ~900 lines of emails printed by the
worker; the invitation links it printed were dead ("Bad Token"); the local run showed Django's
debug 404 and blank 405 pages; the footer's "Service status" opened raw JSON; there was no help
page, though messages say "contact the program team".
"""

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.filebased import EmailBackend
from django.core.management import call_command
from django.utils import timezone

from mahome.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _local_setting(name: str, **environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_", "MAHOME_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "mahome.settings.local", "MAHOME_VAR_DIR": "/tmp/mahome-var", **environment})
    code = f"from django.conf import settings; print(repr(settings.{name}))"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=BASE_DIR, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_local_run_shows_the_apps_own_error_pages():
    assert _local_setting("DEBUG") == "False"
    assert _local_setting("DEBUG", DJANGO_DEBUG="true") == "True"  # still there for whoever wants it


def test_the_local_run_writes_emails_to_files_under_var():
    assert _local_setting("EMAIL_BACKEND") == "'django.core.mail.backends.filebased.EmailBackend'"
    assert _local_setting("EMAIL_FILE_PATH") == "'/tmp/mahome-var/outbox'"
    assert _local_setting("MAHOME_DEV_OUTBOX") == "True"
    assert _local_setting("EMAIL_BACKEND", EMAIL_URL="smtp://mail.example.com:25") == (
        "'django.core.mail.backends.smtp.EmailBackend'"
    )


def test_serve_prints_its_banner_last_and_sends_worker_output_to_files():
    script = (BASE_DIR / "scripts" / "serve").read_text()
    banner = script.index("MA Home is running at")
    assert script.index("celery -A mahome worker") < banner
    assert script.index("celery -A mahome beat") < banner
    assert "wait_until_ready" in script[: script.index("cat <<MSG")]
    for line in script.splitlines():
        if "celery -A mahome" in line or "gunicorn" in line:
            assert "log" in line or line.rstrip().endswith("\\"), line
    assert "/dev/outbox/" in script[banner:]
    assert "/help/" in script[banner:]


def test_a_405_is_a_page_of_the_site(client, member):
    client.force_login(member)
    response = client.get("/profile/sign-out-everywhere/")
    assert response.status_code == 405
    assert "POST" in response["Allow"]
    html = response.content.decode()
    assert 'class="site-header"' in html
    assert "This address does not take that kind of request" in html


def test_the_status_page_reads_healthz_in_words(client):
    WorkerHeartbeat.objects.create(worker="celery@demo", last_seen=timezone.now())
    response = client.get("/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Service status" in html
    assert "Database" in html and "Working" in html
    assert "Background jobs" in html
    assert 'href="/healthz"' in html  # the machine-readable version, for monitors


def test_the_status_page_says_when_background_jobs_are_behind(client):
    WorkerHeartbeat.objects.all().delete()
    WorkerHeartbeat.objects.create(worker="celery@demo", last_seen=timezone.now() - timedelta(hours=2))
    html = client.get("/status/").content.decode()
    assert "Delayed" in html
    assert "Emails and reminders go out late" in html


def test_the_footer_links_to_the_status_and_help_pages(client, member):
    client.force_login(member)
    html = client.get("/").content.decode()
    assert 'href="/status/"' in html
    assert 'href="/help/"' in html


def test_the_help_page_explains_the_program_rules_from_the_live_configuration(client, member, settings):
    from contributions.models import ActivityType
    from tests.factories import ActivityTypeFactory, ProgramYearFactory

    today = timezone.localdate()
    year = ProgramYearFactory(year=today.year, target_points=400)
    ActivityTypeFactory(program_year=year, name="Mentor a new model builder", annual_cap=200)
    ActivityTypeFactory(program_year=year, name="Community forum replies", annual_cap=100, tracking="community")
    assert ActivityType.objects.filter(program_year=year).count() == 2
    settings.MAHOME_SUPPORT_EMAIL = "ma-program@mahome.example"
    client.force_login(member)
    response = client.get("/help/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{today.year}" in html and "400 points" in html
    assert "13 − the month you qualified" in html  # the pro-rating rule, in words
    assert "200 points" in html  # qualified in July of a 400-point year: ceil(400 × 6 / 12)
    assert "Mentor a new model builder" in html and "up to 200 points a year" in html
    assert "working days" in html  # how long verification takes
    assert "ma-program@mahome.example" in html
    client.logout()
    assert client.get("/help/").status_code == 200  # also for someone who cannot sign in


def test_the_dev_outbox_shows_the_emails_the_local_run_wrote(client, settings, tmp_path, member):
    settings.MAHOME_DEV_OUTBOX = True
    settings.EMAIL_FILE_PATH = str(tmp_path)
    backend = EmailBackend(file_path=str(tmp_path))
    message = mail.EmailMessage(
        "[MA Home] You have been added to MA Home",
        "Choose your password: http://127.0.0.1:8000/accounts/password/reset/key/2-abc/",
        "MA Home <mahome@localhost>",
        ["nora.lind@northwind.example"],
    )
    backend.send_messages([message])
    response = client.get("/dev/outbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You have been added to MA Home" in html
    assert "nora.lind@northwind.example" in html
    assert '<a href="http://127.0.0.1:8000/accounts/password/reset/key/2-abc/"' in html


def test_the_dev_outbox_does_not_exist_outside_the_local_run(client, settings):
    settings.MAHOME_DEV_OUTBOX = False
    assert client.get("/dev/outbox/").status_code == 404


def test_the_local_run_has_no_outbox_when_it_sends_emails_for_real():
    """With EMAIL_URL the local run sends mail and writes no files, so there is no outbox page to show."""
    assert _local_setting("MAHOME_DEV_OUTBOX", EMAIL_URL="smtp://mail.example.com:25") == "False"


def test_the_dev_outbox_is_a_404_when_emails_are_not_files(client, settings):
    """Found by mypy: the page read EMAIL_FILE_PATH, which only the file email backend sets (a 500 before)."""
    settings.MAHOME_DEV_OUTBOX = True
    if hasattr(settings, "EMAIL_FILE_PATH"):
        del settings.EMAIL_FILE_PATH
    assert client.get("/dev/outbox/").status_code == 404


def test_the_demo_invitation_links_work(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("seed_demo", stdout=io.StringIO())
    from accounts.models import Notification

    invitations = Notification.objects.filter(kind="account.invitation").select_related("user")
    assert invitations.exists()
    for invitation in invitations:
        if "/accounts/password/reset/key/" not in invitation.email_url:
            continue  # SSO-required organizations get a sign-in link, not a password link
        html = client.get(invitation.email_url, follow=True).content.decode()
        assert "This link no longer works" not in html, invitation.user.email
        assert "Choose" in html, invitation.user.email


def test_a_heartbeat_within_the_minute_reads_just_now_not_0_minutes(client):
    """The walk's reading: "Last seen 0 minutes ago." (Django's timesince under a minute)."""
    WorkerHeartbeat.objects.all().delete()
    WorkerHeartbeat.objects.create(worker="celery@demo", last_seen=timezone.now() - timedelta(seconds=20))
    html = client.get("/status/").content.decode()
    assert "Last seen less than a minute ago." in html and "0 minutes" not in html
    WorkerHeartbeat.objects.update(last_seen=timezone.now() - timedelta(minutes=3))
    assert "Last seen 3\xa0minutes ago." in client.get("/status/").content.decode()  # timesince's own space


def test_a_notification_just_sent_reads_less_than_a_minute_ago_not_0_minutes(client, member):
    """The same filter (`ago`) as the status page's: the member's notifications said "0 minutes ago"."""
    from tests.factories import NotificationFactory

    NotificationFactory(user=member, title="Your claim was verified")
    client.force_login(member)
    html = client.get("/notifications/").content.decode()
    assert "less than a minute ago" in html and "0\xa0minutes" not in html and "0 minutes" not in html
