"""The program team's home page at /admin/ (issue 17, item 5): what needs attention, in one screen.

The queue (size, oldest waiting, decisions per verifier this week), the current year's members by
status (each a link to the year's report filtered by that status), emails that failed in the outbox,
each scheduled job with its plain-language description, last run and result, and the community
connector's last sync. Scheduled jobs' runs are recorded by a Celery signal handler."""

import re
from datetime import date, timedelta

import pytest
from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from accounts.models import Notification
from mahome.beat import JOB_DESCRIPTIONS
from mahome.models import ScheduledJobRun
from tests.factories import (
    ActivityTypeFactory,
    CommunitySourceFactory,
    ContributionFactory,
    MACertificationFactory,
    NotificationFactory,
    ProgramYearFactory,
    UserFactory,
)
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@shared_task(name="tests.mahome.failing_job")
def failing_job() -> None:
    raise RuntimeError("The forum answered 503.")


@shared_task(name="tests.mahome.good_job")
def good_job() -> int:
    return 3


@pytest.fixture
def this_year(db):
    today = timezone.localdate()
    return ProgramYearFactory(year=today.year, opens_on=date(today.year, 1, 1), deadline=date(today.year + 1, 1, 1))


def _world(this_year, verifier, n: int) -> None:
    talk = ActivityTypeFactory(program_year=this_year, points=100)
    for i in range(n):
        member = UserFactory(email=f"home{n}-{i}@example.com")
        MACertificationFactory(user=member, qualified_on=date(2020, 1, 1))
        ContributionFactory(member=member, activity_type=talk, submitted_at=timezone.now() - timedelta(days=4 + i))
        ContributionFactory(
            member=member,
            activity_type=talk,
            state="verified",
            awarded_points=400,
            decided_by=verifier,
            decided_at=timezone.now() - timedelta(days=1),
        )
        NotificationFactory(user=member, email_state=Notification.EmailState.FAILED)
    CommunitySourceFactory(
        name=f"Forum {n}", last_run_at=timezone.now() - timedelta(minutes=20), last_run_ok=False, last_error="HTTP 503"
    )
    crontab, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="8")
    PeriodicTask.objects.get_or_create(
        name=f"job-{n}", defaults={"task": "tests.mahome.good_job", "crontab": crontab, "description": "Does it."}
    )


def test_home_page_says_what_needs_attention(client, program_admin, verifier, this_year):
    _world(this_year, verifier, 2)
    member = UserFactory(email="atrisk@example.com")
    MACertificationFactory(user=member, qualified_on=date(2020, 1, 1))
    failing_job.apply(headers={"periodic_task_name": "job-2"}, throw=False)
    client.force_login(with_mfa(program_admin))
    response = client.get("/admin/")
    assert response.status_code == 200
    home = response.context["home"]
    assert home.queue_size == 2 and home.queue_oldest_days == 5
    assert [(row.name, row.decided) for row in home.decided_by_verifier] == [(verifier.get_full_name(), 2)]
    counts = {row.status: row.count for row in home.statuses}
    assert counts["met"] == 2 and counts["at_risk"] + counts["on_track"] == 1 and counts["opted_out"] == 0
    report = f"/admin/contributions/programyear/{this_year.pk}/report/"
    roster = "/admin/accounts/macertification/?year_status=met"
    assert {row.status: row.url for row in home.statuses}["met"] == roster
    assert home.failed_emails == 2
    (job,) = [job for job in home.jobs if job.name == "job-2"]
    assert job.description == "Does it." and job.state == "failed" and "503" in job.error
    (source,) = home.sources
    assert source.name == "Forum 2" and source.last_run_ok is False and source.last_error == "HTTP 503"
    html = response.content.decode()
    for text in ("Verification queue", "5 days", "At risk", "Met", "Emails that failed", "Scheduled jobs", "Failed"):
        assert text in html, text
    assert f'href="{roster}"' in html and f'href="{report}"' in html
    assert 'href="/admin/accounts/notification/?email_state__exact=failed"' in html


def test_home_page_queries_do_not_grow_with_the_data(
    client, program_admin, verifier, this_year, django_assert_max_num_queries
):
    _world(this_year, verifier, 2)
    client.force_login(with_mfa(program_admin))
    client.get("/admin/")  # warm the session and the per-request caches
    with django_assert_max_num_queries(15) as small:  # session, user, MFA, each panel once
        client.get("/admin/")
    _world(this_year, verifier, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/admin/").status_code == 200


def test_a_scheduled_run_is_recorded_with_its_result():
    good_job.apply(headers={"periodic_task_name": "job-good"})
    failing_job.apply(headers={"periodic_task_name": "job-bad"}, throw=False)
    good_job.apply()  # not sent by beat: not a scheduled job's run
    runs = {run.periodic_task_name: run for run in ScheduledJobRun.objects.all()}
    assert set(runs) == {"job-good", "job-bad"}
    assert runs["job-good"].state == "succeeded" and runs["job-good"].finished_at is not None
    assert runs["job-bad"].state == "failed" and "503" in runs["job-bad"].error
    good_job.apply(headers={"periodic_task_name": "job-bad"})  # the next run replaces the result
    again = ScheduledJobRun.objects.get(periodic_task_name="job-bad")
    assert again.state == "succeeded" and again.error == "" and again.runs == 2


def test_every_default_schedule_has_a_plain_language_description():
    assert set(settings.CELERY_BEAT_SCHEDULE) <= set(JOB_DESCRIPTIONS)
    assert all(len(text) > 20 and "*" not in text for text in JOB_DESCRIPTIONS.values())


@pytest.mark.django_db(transaction=True)
def test_beat_creates_missing_schedules_with_their_description():
    reminders = _default_jobs()["maintenance-deadline-reminders"]
    assert reminders.description == JOB_DESCRIPTIONS["maintenance-deadline-reminders"]


def test_verifiers_see_the_home_page_too(client, verifier, this_year):
    client.force_login(with_mfa(verifier))
    response = client.get("/admin/")
    assert response.status_code == 200 and "Verification queue" in response.content.decode()


def test_status_counts_open_the_roster_filtered_by_this_years_status(client, program_admin, verifier, this_year):
    """Issue 17: each of the year's status counts opens the MA roster filtered by that status."""
    _world(this_year, verifier, 2)  # two MAs who met their target
    behind = UserFactory(email="behind@example.com")
    MACertificationFactory(user=behind, qualified_on=date(2020, 1, 1))
    client.force_login(with_mfa(program_admin))
    home = client.get("/admin/").context["home"]
    urls = {row.status: row.url for row in home.statuses}
    assert urls["met"] == "/admin/accounts/macertification/?year_status=met"
    met = client.get(urls["met"])
    assert {c.user.email for c in met.context["cl"].result_list} == {"home2-0@example.com", "home2-1@example.com"}
    others = client.get(urls["at_risk"]).context["cl"].result_list
    on_track = client.get(urls["on_track"]).context["cl"].result_list
    assert {c.user.email for c in [*others, *on_track]} == {"behind@example.com"}
    assert "By status this year" in client.get(urls["met"]).content.decode()  # the filter is shown


def _default_jobs() -> dict[str, PeriodicTask]:
    from mahome.beat import DefaultsOnlyDatabaseScheduler
    from mahome.celery import app

    PeriodicTask.objects.all().delete()
    DefaultsOnlyDatabaseScheduler(app=app, lazy=True).update_from_dict(settings.CELERY_BEAT_SCHEDULE)
    return {task.name: task for task in PeriodicTask.objects.select_related("crontab", "interval")}


@pytest.mark.django_db(transaction=True)
def test_the_when_column_says_each_schedule_in_plain_24_hour_words(client, program_admin):
    """The second walk: the home page read "At 03:05 AM UTC" (django-celery-beat's cron description) beside a
    description that said "Daily at 03:05 UTC" itself. The "When" column is now the one place the timing is
    written, from the schedule the admin set, in the site's 24-hour clock."""
    _default_jobs()
    client.force_login(with_mfa(program_admin))
    when = {job.name: job.when for job in client.get("/admin/").context["home"].jobs}
    assert when["community-boss-windows"] == "Daily at 03:05 UTC"
    assert when["maintenance-deadline-reminders"] == "Daily at 08:00 UTC"
    assert when["maintenance-monthly-status"] == "At 08:30, on day 1 of the month (UTC)"
    assert when["contributions-audits-sample"] == "At 06:00, only on Monday (UTC)"
    assert when["notifications-outbox-sweep"] == "Every 5 minutes"
    assert when["worker-heartbeat"] == "Every minute"
    assert when["community-drop-folder"] == "Every 5 minutes"
    assert not any("AM" in text or "PM" in text for text in when.values())


@pytest.mark.django_db(transaction=True)
def test_a_schedule_the_admin_changes_is_not_contradicted_by_its_description(client, program_admin):
    """The descriptions said the default timing ("Daily at 03:05 UTC: ..."), so a program admin who moved a job
    to 04:00 saw "Daily at 03:05" beside "Daily at 04:00". A description says what the job does, never when."""
    jobs = _default_jobs()
    boss = jobs["community-boss-windows"]
    boss.crontab = CrontabSchedule.objects.create(minute="0", hour="4", timezone="UTC")
    boss.save()
    client.force_login(with_mfa(program_admin))
    row = next(job for job in client.get("/admin/").context["home"].jobs if job.name == "community-boss-windows")
    assert row.when == "Daily at 04:00 UTC"
    assert "03:05" not in row.description and "Daily" not in row.description
    for text in JOB_DESCRIPTIONS.values():
        assert not re.search(r"\d:\d\d|\bUTC\b|^(Every|Daily|On the)\b", text), text


def test_migration_rewords_the_default_descriptions_an_admin_left_alone():
    """mahome 0005 (contributions 0027 for the audits' job): a row holding the old default text (from 0004 or
    contributions 0014) gets the new one; a description a program admin wrote stays theirs."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("mahome.migrations.0005_job_descriptions_without_timing")
    old = importlib.import_module("mahome.migrations.0004_periodic_task_descriptions").JOB_DESCRIPTIONS
    audits = importlib.import_module("contributions.migrations.0014_audits").DESCRIPTION
    every = CrontabSchedule.objects.create(minute="5", hour="3")
    PeriodicTask.objects.filter(name__in=["community-boss-windows", "contributions-audits-sample", "mine"]).delete()
    PeriodicTask.objects.create(
        name="community-boss-windows", task="x", crontab=every, description=old["community-boss-windows"]
    )
    PeriodicTask.objects.create(name="contributions-audits-sample", task="y", crontab=every, description=audits)
    PeriodicTask.objects.create(name="maintenance-deadline-reminders-x", task="z", crontab=every, description="Ours.")
    migration.reword(apps, None)
    importlib.import_module("contributions.migrations.0027_audit_job_description").reword(apps, None)
    texts = dict(PeriodicTask.objects.values_list("name", "description"))
    assert texts["community-boss-windows"] == JOB_DESCRIPTIONS["community-boss-windows"]
    assert texts["contributions-audits-sample"] == JOB_DESCRIPTIONS["contributions-audits-sample"]
    assert texts["maintenance-deadline-reminders-x"] == "Ours."


def test_a_queue_whose_oldest_came_in_today_says_so_not_0_days(client, program_admin, this_year, member):
    """The walk's reading: "The oldest has waited 0 days." The help page already said it in words."""
    talk = ActivityTypeFactory(program_year=this_year, points=100)
    ContributionFactory(member=member, activity_type=talk, submitted_at=timezone.now() - timedelta(hours=2))
    client.force_login(with_mfa(program_admin))
    html = client.get("/admin/").content.decode()
    assert "Every item in it arrived today." in html and "0 days" not in html
    help_page = client.get("/help/").content.decode()
    assert "Right now every submission in the queue arrived today." in help_page and "0 days" not in help_page


@pytest.mark.django_db(transaction=True)
def test_celerys_own_cleanup_job_says_what_it_does(client, program_admin):
    """The walk: beat's built-in `celery.backend_cleanup` showed "—" under "What it does" on the home page."""
    from mahome.beat import DefaultsOnlyDatabaseScheduler
    from mahome.celery import app

    PeriodicTask.objects.filter(name="celery.backend_cleanup").delete()
    DefaultsOnlyDatabaseScheduler(app=app, lazy=True).install_default_entries({})
    client.force_login(with_mfa(program_admin))
    row = next(job for job in client.get("/admin/").context["home"].jobs if job.name == "celery.backend_cleanup")
    assert row.description == JOB_DESCRIPTIONS["celery.backend_cleanup"]
    assert row.when == "Daily at 04:00 UTC"


def test_migration_describes_an_existing_cleanup_job_left_without_one():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("mahome.migrations.0006_backend_cleanup_description")
    PeriodicTask.objects.filter(name="celery.backend_cleanup").delete()
    every = CrontabSchedule.objects.create(minute="0", hour="4")
    PeriodicTask.objects.create(name="celery.backend_cleanup", task="celery.backend_cleanup", crontab=every)
    migration.describe(apps, None)
    assert PeriodicTask.objects.get(name="celery.backend_cleanup").description == migration.TEXT
    assert JOB_DESCRIPTIONS["celery.backend_cleanup"] == migration.TEXT
