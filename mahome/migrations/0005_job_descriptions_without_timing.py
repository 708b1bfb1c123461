"""The default scheduled jobs' descriptions no longer say when they run (the second walk of 7 December).

They said the default timing ("Daily at 03:05 UTC: ..."), which contradicted the schedule as soon as a
program admin changed it. A row still holding one of the earlier default texts (written by 0004) gets the
new text; a description an admin wrote is theirs and stays. Copies of the texts as they are now: a migration
must not change when the code does. (The audits' job, written by contributions 0014, is reworded by
contributions 0027: a dependency on another app's migration here would pull that app forward in every
migration test that moves it back.)
"""

import importlib

from django.db import migrations

JOB_DESCRIPTIONS = {
    "worker-heartbeat": "Proves a background worker is running (the health check reads it).",
    "notifications-outbox-sweep": "Sends notification emails that are waiting or failed earlier, with retries; "
    "an email that keeps failing is marked failed.",
    "maintenance-deadline-reminders": "Reminds members on track or at risk 60, 30 and 7 days before the deadline "
    "(each reminder once per member).",
    "maintenance-monthly-status": "Sends each member on track or at risk their points so far (once per member and "
    "month).",
    "maintenance-review-notifications": "From a year's notification date, tells each reviewed member their year-end "
    "outcome (once).",
    "engagements-offers-expire": "A freed slot offered to a waitlisted member and not answered in time passes to "
    "the next in line.",
    "community-drop-folder": "Imports activity files dropped in the community drop folder and moves them to "
    "processed/.",
    "community-sources-sync": "Pulls new activity from each enabled community forum (Discourse) and recomputes the "
    "levels of the members it touched.",
    "community-link-accounts": "Links community members to MA accounts by email, so their community activity "
    "counts for the program.",
    "community-boss-windows": "Creates next year's Boss program application windows if they are missing.",
}


def _earlier_texts() -> dict[str, str]:
    return importlib.import_module("mahome.migrations.0004_periodic_task_descriptions").JOB_DESCRIPTIONS


def reword(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, text in _earlier_texts().items():
        PeriodicTask.objects.filter(name=name, description=text).update(description=JOB_DESCRIPTIONS[name])


def unreword(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, text in _earlier_texts().items():
        PeriodicTask.objects.filter(name=name, description=JOB_DESCRIPTIONS[name]).update(description=text)


class Migration(migrations.Migration):
    dependencies = [("mahome", "0004_periodic_task_descriptions")]

    operations = [migrations.RunPython(reword, unreword)]
