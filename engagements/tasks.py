from celery import shared_task

from engagements import services


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def offers_expire() -> int:
    """Beat job: expired waitlist offers pass to the next member in line."""
    return services.offers_expire()
