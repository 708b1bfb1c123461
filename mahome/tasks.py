import socket

from celery import shared_task
from django.utils import timezone

from mahome.models import WorkerHeartbeat


@shared_task(ignore_result=True)
def heartbeat() -> str:
    """Run by beat every minute; /healthz reads the newest row to tell whether workers run."""
    worker = socket.gethostname()
    WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"last_seen": timezone.now()})
    return worker
