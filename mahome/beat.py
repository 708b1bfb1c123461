"""Beat's scheduler: the database holds the schedules, editable in the admin.

django-celery-beat's DatabaseScheduler copies CELERY_BEAT_SCHEDULE over the database rows every
time beat starts, so an admin's edit of a schedule would be undone at the next restart. Here
the settings only provide the defaults: an entry is created when it is missing and otherwise
left exactly as the admin set it (enabled or not, its timing, its arguments).
"""

from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

# What each default job does, in the program team's words: shown in the periodic tasks' admin and on
# the home page beside its schedule. Never when it runs: the schedule is the admin's to change, and the
# home page's "When" column says it (mahome.admin_home.schedule_in_words). Rows that still hold the
# earlier texts, which said the default timing, are reworded by mahome/migrations/0005.
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
    "contributions-audits-sample": "Chooses verified contributions to audit, at each program year's audit rate and "
    "more often when a claim looks risky, and asks those members for evidence.",
    # Celery's own, which beat adds by itself (DatabaseScheduler.install_default_entries).
    "celery.backend_cleanup": "Celery's own housekeeping: deletes background jobs' results once they have expired.",
}


class DefaultsOnlyDatabaseScheduler(DatabaseScheduler):
    def update_from_dict(self, mapping: dict) -> None:
        existing = set(PeriodicTask.objects.filter(name__in=list(mapping)).values_list("name", flat=True))
        super().update_from_dict(
            {
                name: {**entry, "description": JOB_DESCRIPTIONS.get(name, "")}
                for name, entry in mapping.items()
                if name not in existing
            }
        )
