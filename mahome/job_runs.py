"""Records each scheduled job's last run and result (issue 17: "did each job last run and succeed?").

Only runs that beat sent (django-celery-beat puts the periodic task's name in the message header
`periodic_task_name`, `django_celery_beat/schedulers.py: ModelEntry.__init__`; its admin's "Run
selected tasks" does the same) are recorded, one row per job, replaced by an upsert at each run.
Tasks a request queues (emails, pulls) are not scheduled jobs and cost nothing here.
"""

from celery import signals
from django.db.models import F
from django.utils import timezone

from mahome.models import ScheduledJobRun

ERROR_LENGTH = 1000


def _job_name(task) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    name = getattr(request, "periodic_task_name", None)
    if not name:
        headers = getattr(request, "headers", None) or {}
        name = headers.get("periodic_task_name") if isinstance(headers, dict) else None
    return name or None


def job_run_started(*, periodic_task_name: str, task: str) -> None:
    """Upsert (PostgreSQL ON CONFLICT): two workers starting the same job at once leave one row."""
    now = timezone.now()
    ScheduledJobRun.objects.bulk_create(
        [
            ScheduledJobRun(
                periodic_task_name=periodic_task_name,
                task=task,
                state=ScheduledJobRun.State.RUNNING,
                started_at=now,
                finished_at=None,
                error="",
                runs=0,
            )
        ],
        update_conflicts=True,
        unique_fields=["periodic_task_name"],
        update_fields=["task", "state", "started_at", "finished_at", "error"],
    )


def job_run_finished(*, periodic_task_name: str, succeeded: bool, error: str = "") -> None:
    ScheduledJobRun.objects.filter(periodic_task_name=periodic_task_name).update(
        state=ScheduledJobRun.State.SUCCEEDED if succeeded else ScheduledJobRun.State.FAILED,
        finished_at=timezone.now(),
        error=error[:ERROR_LENGTH],
        runs=F("runs") + 1,
    )


@signals.task_prerun.connect(dispatch_uid="mahome.job_runs.started")
def _started(sender=None, task=None, **kwargs) -> None:
    name = _job_name(task)
    if name:
        job_run_started(periodic_task_name=name, task=task.name)


@signals.task_postrun.connect(dispatch_uid="mahome.job_runs.finished")
def _finished(sender=None, task=None, state=None, retval=None, **kwargs) -> None:
    name = _job_name(task)
    if name:
        failed = state in ("FAILURE", "RETRY") or isinstance(retval, BaseException)
        error = f"{type(retval).__name__}: {retval}" if isinstance(retval, BaseException) else ""
        job_run_finished(periodic_task_name=name, succeeded=not failed, error=error)
