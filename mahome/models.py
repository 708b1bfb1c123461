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


class ScheduledJobRun(models.Model):
    """The last run of each scheduled job (a django-celery-beat periodic task), kept by `mahome.job_runs`.

    One row per periodic task name, replaced at each run: when it started and finished, whether it
    succeeded and, if not, the error in a line. The program team's home page shows it beside the
    schedule so "did last night's reminders go out?" has an answer without reading worker logs.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    periodic_task_name = models.CharField(_("scheduled job"), max_length=200, unique=True)
    task = models.CharField(_("task"), max_length=200)
    state = models.CharField(_("result"), max_length=16, choices=State.choices)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    runs = models.PositiveIntegerField(_("runs recorded"), default=0)

    class Meta:
        verbose_name = _("scheduled job run")

    def __str__(self) -> str:
        return f"{self.periodic_task_name}: {self.get_state_display()}"
