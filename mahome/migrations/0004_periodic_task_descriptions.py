"""Plain-language descriptions on the default scheduled jobs that have none (issue 17).

A copy of mahome.beat.JOB_DESCRIPTIONS as it was when written (a migration must not change when the
code does). Rows an admin already described are left alone; new installations get the text from beat.
"""

from django.db import migrations

JOB_DESCRIPTIONS = {
    "worker-heartbeat": "Every minute: proves a background worker is running (the health check reads it).",
    "notifications-outbox-sweep": "Every 5 minutes: sends notification emails that are waiting or failed "
    "earlier, with retries; an email that keeps failing is marked failed.",
    "maintenance-deadline-reminders": "Daily at 08:00 UTC: reminds members on track or at risk 60, 30 and 7 days "
    "before the deadline (each reminder once per member).",
    "maintenance-monthly-status": "On the 1st of each month at 08:30 UTC: sends each member on track or at risk "
    "their points so far (once per member and month).",
    "maintenance-review-notifications": "Daily at 09:00 UTC: from a year's notification date, tells each reviewed "
    "member their year-end outcome (once).",
    "engagements-offers-expire": "Every 5 minutes: a freed slot offered to a waitlisted member and not answered "
    "in time passes to the next in line.",
    "community-drop-folder": "Every 5 minutes: imports activity files dropped in the community drop folder and "
    "moves them to processed/.",
    "community-sources-sync": "Every 30 minutes: pulls new activity from each enabled community forum (Discourse) "
    "and recomputes the levels of the members it touched.",
    "community-link-accounts": "Every 6 hours: links community members to MA accounts by email, so their "
    "community activity counts for the program.",
    "community-boss-windows": "Daily at 03:05 UTC: creates next year's Boss program application windows if they "
    "are missing.",
}


def describe(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, text in JOB_DESCRIPTIONS.items():
        PeriodicTask.objects.filter(name=name, description="").update(description=text)


class Migration(migrations.Migration):
    dependencies = [
        ("mahome", "0003_scheduled_job_run"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(describe, migrations.RunPython.noop)]
