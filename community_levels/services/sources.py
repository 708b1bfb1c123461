"""Pulling activity from the community's sources (connectors), one run at a time per source."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from community_levels.ingestion import (
    Record,
    record_from_mapping,
    revoke_events,
    write_batch,
)
from community_levels.models import (
    CommunitySource,
    PendingRecompute,
    SourceRun,
)
from community_levels.services.common import enqueue_recompute

logger = logging.getLogger("community_levels.services")


SOURCE_LOCK_NAMESPACE = "community_levels.source"


# A pull that did not start because another holds the source's lock: no run, so no `SourceRun.State`.
SOURCE_BUSY = "busy"


@dataclass
class SourceSyncResult:
    run_id: int | None
    state: str  # a SourceRun.State, or SOURCE_BUSY
    fetched: int = 0
    imported: int = 0
    bad: int = 0
    skipped: int = 0
    revoked: int = 0
    requests: int = 0
    caught_up: bool = False
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@contextmanager
def _source_lock(source_id: int) -> Iterator[bool]:
    """One pull per source at a time: a PostgreSQL session advisory lock, released when the pull
    ends or, if the worker is killed, when its database connection closes."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s), %s)", [SOURCE_LOCK_NAMESPACE, source_id])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s), %s)", [SOURCE_LOCK_NAMESPACE, source_id])


def source_sync_enqueue(*, source_id: int, started_by: User | None = None) -> None:
    """Queue a pull (a pull can take many minutes: never in a web request)."""
    from community_levels.tasks import source_sync_task

    user_id = started_by.pk if started_by else None
    transaction.on_commit(lambda: source_sync_task.delay(source_id, user_id))


def page_records(events: list[dict]) -> tuple[list[Record], list[str]]:
    """One page's events as records to store, and for each event that cannot be stored, "event_id: why"."""
    records, errors = [], []
    for data in events:
        try:
            records.append(record_from_mapping(data))
        except ValueError as error:
            errors.append(f"{data.get('event_id', '?')}: {error}")
    return records, errors


def source_sync(*, source_id: int, started_by: User | None = None) -> SourceSyncResult:
    """Pull what is new from one platform source, page by page.

    Each page's events and the stream's cursor are written in one transaction, so the cursor never
    passes what was not stored, and a run that stops anywhere (error, time limit, killed worker)
    loses nothing: the next run continues from the last stored page. Persistent failures fail the
    run with the connector's message; Celery's time limits are recorded and raised again.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    from community_levels.connectors import connector_for
    from community_levels.connectors.base import ConnectorError

    with _source_lock(source_id) as acquired:
        if not acquired:
            return SourceSyncResult(
                run_id=None,
                state=SOURCE_BUSY,
                message=_("Another pull of this source is running; this one did not start."),
            )
        source = CommunitySource.objects.get(pk=source_id)
        now = timezone.now()
        run = _run_start(source, started_by=started_by, now=now)
        result = SourceSyncResult(run_id=run.pk, state=SourceRun.State.RUNNING)
        connector = connector_for(source)
        try:
            _pull(connector, source=source, run=run, result=result)
        except SoftTimeLimitExceeded:
            result.state = SourceRun.State.FAILED
            result.message = _(
                "The task's time limit was reached. Everything stored so far is kept; the next run continues from "
                "the last stored page."
            )
            _run_finish(run, source, result, connector, now)
            raise
        except ConnectorError as error:
            result.state = SourceRun.State.FAILED
            result.message = str(error)
        except Exception as error:
            logger.exception("Community source %s failed", source.slug)
            result.state = SourceRun.State.FAILED
            result.message = _("Unexpected error (%(error)s); the next run continues from the last stored page.") % {
                "error": f"{type(error).__name__}: {error}"
            }
        _run_finish(run, source, result, connector, now)
    if result.imported or result.revoked or PendingRecompute.objects.exists():
        enqueue_recompute(reason=_("New community activity"))
    return result


def _run_start(source: CommunitySource, *, started_by: User | None, now) -> SourceRun:
    """Close the runs a stopped worker left running, and record this one."""
    SourceRun.objects.filter(source=source, state=SourceRun.State.RUNNING).update(
        state=SourceRun.State.INTERRUPTED,
        finished_at=now,
        message=_(
            "The worker stopped during this run (killed or out of time). Nothing stored was lost: "
            "the next run continued from the last stored page."
        ),
    )
    return SourceRun.objects.create(source=source, started_at=now, started_by=started_by)


def _pull(connector, *, source: CommunitySource, run: SourceRun, result: SourceSyncResult) -> None:
    """Store page after page until the connector has caught up or the run's time is over."""
    cursor = dict(source.cursor or {})
    deadline = time.monotonic() + settings.COMMUNITY_SOURCE_RUN_SECONDS
    fast = connection.vendor == "postgresql"
    for page in connector.pages(cursor, deadline=deadline):
        records, errors = page_records(page.events)
        with transaction.atomic():
            imported = write_batch(records, source=source.slug, fast=fast) if records else 0
            revoke_ids, revoke_reason = page.revoke
            result.revoked += revoke_events(revoke_ids, source=source.slug, reason=revoke_reason)
            cursor[page.stream] = page.cursor
            cursor.update(page.extra_cursor)
            CommunitySource.objects.filter(pk=source.pk).update(cursor=cursor)
            result.fetched += len(page.events)
            result.imported += imported
            result.bad += len(errors)
            result.skipped += page.skipped
            result.requests = connector.requests
            if errors and not result.message:
                result.message = _("Events the connector could not store: %(errors)s") % {
                    "errors": "; ".join(errors[:5])
                }
            _run_progress(run, result)
    result.caught_up = connector.caught_up
    result.state = SourceRun.State.SUCCEEDED
    if not result.caught_up and not result.message:
        result.message = _("Stopped after %(seconds)d seconds; the next run continues from here.") % {
            "seconds": settings.COMMUNITY_SOURCE_RUN_SECONDS
        }


def _run_progress(run: SourceRun, result: SourceSyncResult) -> None:
    SourceRun.objects.filter(pk=run.pk).update(
        requests=result.requests,
        fetched=result.fetched,
        imported=result.imported,
        bad=result.bad,
        skipped=result.skipped,
        revoked=result.revoked,
    )


def _run_finish(run: SourceRun, source: CommunitySource, result: SourceSyncResult, connector, started) -> None:
    result.requests = connector.requests
    ok = result.state == SourceRun.State.SUCCEEDED
    SourceRun.objects.filter(pk=run.pk).update(
        state=result.state,
        finished_at=timezone.now(),
        caught_up=result.caught_up,
        requests=result.requests,
        fetched=result.fetched,
        imported=result.imported,
        bad=result.bad,
        skipped=result.skipped,
        revoked=result.revoked,
        message=result.message,
    )
    updates = {
        "last_run_at": started,
        "last_run_ok": ok,
        "last_run_items": result.fetched,
        "last_run_imported": result.imported,
        "last_run_errors": result.bad + (0 if ok else 1),
        "last_error": "" if ok and not result.bad else result.message,
    }
    if ok and result.caught_up:
        updates["watermark"] = started
    CommunitySource.objects.filter(pk=source.pk).update(**updates)


@transaction.atomic
def source_cursor_reset(*, source: CommunitySource, reset_by: User) -> CommunitySource:
    """Forget what a source has read, so the next runs read the platform again from the start.

    Safe at any time: event ids are the platform's own, so what was stored is not counted twice.
    Recorded in the source's history with who did it.
    """
    source = CommunitySource.objects.select_for_update(of=("self",), no_key=True).get(pk=source.pk)
    source.cursor = {}
    source.watermark = None
    source.full_clean()
    source._history_user = reset_by
    source._change_reason = _("Cursor reset: backfill again")
    source.save()
    return source
