from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the beat's heartbeat task (one row per worker name)."""

    worker = models.CharField(_("worker"), max_length=200, unique=True)
    last_seen = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")

    def __str__(self) -> str:
        return f"{self.worker} @ {self.last_seen:%Y-%m-%d %H:%M:%S}"
