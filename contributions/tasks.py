from celery import shared_task

from contributions import selectors, services
from contributions.models import ProgramYear
from contributions.services import audits as audit_services


@shared_task(acks_late=True)
def maintenance_deadline_reminders() -> int:
    """Daily: reminders 60, 30 and 7 days before the deadline (each sent once per member)."""
    return services.maintenance_deadline_reminders_send()


@shared_task(acks_late=True)
def maintenance_monthly_status() -> int:
    """First of the month: the status email to members not yet met (once per member and month)."""
    return services.maintenance_monthly_status_send()


@shared_task(acks_late=True)
def review_notifications() -> int:
    """Daily: outcome notifications of reviewed years whose notification date has come (once each)."""
    sent = 0
    for program_year_id in selectors.reviewed_program_year_ids():
        program_year = ProgramYear.objects.get(pk=program_year_id)
        sent += services.review_notifications_send(program_year=program_year)
    return sent


@shared_task(acks_late=True)
def audits_sample_weekly() -> int:
    """Weekly: choose the audits among the contributions verified since the last run (risk-based)."""
    return sum(len(sample.sampled_ids) for sample in audit_services.audits_sample_due())
