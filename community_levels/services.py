"""Every write of the community_levels app (ingestion and recompute live in their own modules)."""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from community_levels.ingestion import (
    IngestResult,
    LineError,
    ingest_file,
    parse_file,
    record_from_mapping,
    revoke_events,
    write_batch,
)
from community_levels.models import (
    ActivityEvent,
    BossApplication,
    BossProgramWindow,
    CommunityMember,
    CommunitySource,
    Level,
    LevelRequirement,
    ScoringWeight,
    SourceRun,
)
from community_levels.recompute import RecomputeResult, levels_recompute
from mahome.errors import DomainError

logger = logging.getLogger(__name__)

FILE_SOURCE = "file"


class CommunityError(DomainError):
    """A rule of the community program refused the change; the message is for the person."""


def _enqueue_recompute(*, full: bool = False, reason: str = "", is_rule_change: bool = False) -> None:
    from community_levels.tasks import levels_recompute_task

    def send() -> None:
        try:
            levels_recompute_task.delay(full, reason, is_rule_change)
        except Exception:  # noqa: BLE001 - a broker outage must not fail an import; the next run catches up
            logger.warning("Broker unavailable; the next recompute will take the new activity")

    transaction.on_commit(send, robust=True)


def activity_ingest_file(
    *, path: Path | str, source: str = FILE_SOURCE, recompute: bool = True, batch_size: int | None = None
) -> IngestResult:
    """Ingest a JSON Lines or CSV file of canonical events; then recompute the members it touched."""
    batch_size = batch_size or settings.COMMUNITY_INGEST_BATCH_SIZE
    result = ingest_file(path, source=source, batch_size=batch_size)
    if recompute and _recompute_due(result):
        _enqueue_recompute(reason=_("New community activity"))
    return result


def _recompute_due(result: IngestResult) -> bool:
    """New events, or members still marked by an earlier run that died before its recompute was enqueued
    (its re-run finds only duplicates, yet those members must still be placed)."""
    return bool(result.imported) or CommunityMember.objects.filter(needs_recompute=True).exists()


PREVIEW_BATCH = 5000


def activity_preview_file(*, path: Path | str, source: str = FILE_SOURCE) -> tuple[IngestResult, int]:
    """Parse without writing: the counts and bad lines an import would report, and the good lines.

    `result.imported` is how many good lines are new events and `result.duplicates` how many are
    already stored (or repeat an earlier line of the file): re-importing a file says "0 new". The
    stored ids are looked up in batches, so a file of any size is read once, in constant memory
    apart from the set of its event ids.
    """
    result = IngestResult()
    good = 0
    seen: set[str] = set()
    batch: list[str] = []

    def count_known() -> None:
        known = set(ActivityEvent.objects.filter(source=source, event_id__in=batch).values_list("event_id", flat=True))
        result.duplicates += len(known)
        result.imported += len(batch) - len(known)
        batch.clear()

    for line_no, item in parse_file(path):
        result.read += 1
        if isinstance(item, LineError):
            result.bad += 1
            if len(result.errors) < 100:
                result.errors.append({"line": line_no, "reason": item.reason})
            continue
        good += 1
        if item.event_id in seen:
            result.duplicates += 1
            continue
        seen.add(item.event_id)
        batch.append(item.event_id)
        if len(batch) >= PREVIEW_BATCH:
            count_known()
    if batch:
        count_known()
    return result, good


def drop_folder_ingest(*, folder: Path | None = None) -> list[tuple[str, IngestResult]]:
    """Ingest every file in the drop folder, then move it to processed/ (safe to re-run)."""
    folder = Path(folder or settings.COMMUNITY_DROP_FOLDER)
    processed = folder / "processed"
    folder.mkdir(parents=True, exist_ok=True)
    processed.mkdir(exist_ok=True)
    done = []
    for path in sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".jsonl", ".ndjson", ".csv")
    ):
        result = activity_ingest_file(path=path, source=FILE_SOURCE)
        target = processed / path.name
        if target.exists():
            target = processed / f"{path.stem}-{timezone.now():%Y%m%d%H%M%S}{path.suffix}"
        path.rename(target)
        done.append((path.name, result))
    return done


def recompute(*, full: bool = False, reason: str = "", is_rule_change: bool = False) -> RecomputeResult:
    return levels_recompute(full=full, reason=reason, is_rule_change=is_rule_change)


@transaction.atomic
def member_set_excluded(*, member: CommunityMember, excluded: bool) -> CommunityMember:
    """Exclude (or include again) a member's events from their score; recompute follows."""
    member.is_excluded = excluded
    member.needs_recompute = True
    member.full_clean()
    member.save(update_fields=["is_excluded", "needs_recompute"])
    _enqueue_recompute(reason=_("Events excluded by an admin") if excluded else _("Events included again"))
    return member


@transaction.atomic
def members_link_accounts() -> int:
    """Link community members to MA accounts with the same email (for accounts created later).

    One set-based UPDATE; linked members are recomputed so their contributions follow.
    """
    from django.db import connection

    member, user = CommunityMember._meta.db_table, User._meta.db_table
    match = f"SELECT u.id FROM {user} u WHERE LOWER(u.email) = {member}.email"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {member} SET user_id = ({match}), needs_recompute = TRUE "  # noqa: S608 - model table names
            f"WHERE user_id IS NULL AND email <> '' AND EXISTS ({match})"
        )
        linked = cursor.rowcount
    if linked:
        _enqueue_recompute(reason=_("Linked to an MA account"))
    return linked


# --- Rules --------------------------------------------------------------------------------------


def rules_changed(*, changed_by: User | None, what: str) -> None:
    """A ladder or weight changed: everyone is recomputed, and lowered levels say why."""
    who = changed_by.email if changed_by else _("an admin")
    _enqueue_recompute(
        full=True,
        reason=_("Level rules changed by %(who)s (%(what)s)") % {"who": who, "what": what},
        is_rule_change=True,
    )


LadderRule = Level | LevelRequirement | ScoringWeight


@transaction.atomic
def ladder_rule_save(*, rule: LadderRule, changed_by: User | None, recompute: bool = True) -> LadderRule:
    """Save one level, level requirement or weight (history records who) and recompute everyone.

    `recompute=False` when the same change already queued the recompute (a level's inline rows
    are saved right after the level itself, in the same transaction).
    """
    rule._history_user = changed_by
    rule.full_clean()
    rule.save()
    if recompute:
        rules_changed(changed_by=changed_by, what=str(rule))
    return rule


@transaction.atomic
def ladder_rule_delete(*, rule: LadderRule, changed_by: User | None, recompute: bool = True) -> None:
    """Delete a level, level requirement or weight (the history keeps it, with who) and recompute."""
    what = _("deleted %(obj)s") % {"obj": rule}
    rule._history_user = changed_by
    rule.delete()
    if recompute:
        rules_changed(changed_by=changed_by, what=what)


@transaction.atomic
def rules_save(
    *,
    changed_by: User | None,
    level_scores: dict[int, Decimal] | None = None,
    requirement_minimums: dict[int, int] | None = None,
    weights: dict[int, tuple[Decimal, int | None]] | None = None,
) -> int:
    """Save edited thresholds and weights (with history) and trigger a full recompute."""
    level_scores, requirement_minimums, weights = level_scores or {}, requirement_minimums or {}, weights or {}
    changed = 0
    for level in Level.objects.filter(pk__in=list(level_scores)):
        new_score = level_scores[level.pk]
        if level.min_score != new_score:
            level.min_score = new_score
            level._history_user = changed_by
            level.full_clean()
            level.save()
            changed += 1
    for requirement in LevelRequirement.objects.filter(pk__in=list(requirement_minimums)):
        new_minimum = requirement_minimums[requirement.pk]
        if requirement.minimum != new_minimum:
            requirement.minimum = new_minimum
            requirement._history_user = changed_by
            requirement.full_clean()
            requirement.save()
            changed += 1
    for weight in ScoringWeight.objects.filter(pk__in=list(weights)):
        new_weight, new_cap = weights[weight.pk]
        if weight.weight != new_weight or weight.daily_cap != new_cap:
            weight.weight, weight.daily_cap = new_weight, new_cap
            weight._history_user = changed_by
            weight.full_clean()
            weight.save()
            changed += 1
    if changed:
        rules_changed(changed_by=changed_by, what=_("%(n)d thresholds or weights") % {"n": changed})
    return changed


# --- Boss program ----------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


@transaction.atomic
def boss_windows_ensure(*, today: date | None = None, months_ahead: int = 12) -> int:
    """Create the default application windows (settings.COMMUNITY_BOSS_WINDOW_MONTHS) for the coming year."""
    today = today or timezone.localdate()
    created = 0
    for year in (today.year, today.year + 1):
        for month in settings.COMMUNITY_BOSS_WINDOW_MONTHS:
            opens = date(year, month, 1)
            closes = _month_end(year, month)
            if closes < today or (opens - today).days > months_ahead * 31:
                continue
            _window, was_created = BossProgramWindow.objects.get_or_create(
                opens_on=opens,
                defaults={
                    "closes_on": closes,
                    "name": _("Boss program, %(month)s") % {"month": opens.strftime("%B %Y")},
                },
            )
            created += was_created
    return created


@transaction.atomic
def boss_application_submit(*, member: CommunityMember, statement: str, today: date | None = None) -> BossApplication:
    from community_levels.selectors import boss_window_open

    window = boss_window_open(today=today)
    if window is None:
        raise CommunityError(_("Applications are closed right now."))
    level = member.level
    if level is None or not level.boss_program_eligible:
        raise CommunityError(_("The Boss program is open to members at Community Boss level or above."))
    if not statement.strip():
        raise CommunityError(_("Tell the team in a few words why you want to join."))
    application = BossApplication(member=member, window=window, statement=statement.strip(), level_at_application=level)
    try:
        application.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise CommunityError(" ".join(error.messages)) from error
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise CommunityError(_("You have already applied in this window.")) from None
    return application


@transaction.atomic
def boss_application_decide(
    *, application: BossApplication, decided_by: User, accept: bool, note: str = ""
) -> BossApplication:
    from accounts.services import notification_create

    application = (
        BossApplication.objects.select_for_update(of=("self",), no_key=True)
        .select_related("member__user", "window")
        .get(pk=application.pk)
    )
    if application.state != BossApplication.State.SUBMITTED:
        raise CommunityError(_("This application was already decided."))
    application.state = BossApplication.State.ACCEPTED if accept else BossApplication.State.DECLINED
    application.decided_by = decided_by
    application.decided_at = timezone.now()
    application.decision_note = note
    application.full_clean(validate_constraints=False)
    application.save()
    user = application.member.user
    if user is not None:
        notification_create(
            user=user,
            kind="community.boss_decision",
            title=_("Welcome to the Community Boss program")
            if accept
            else _("Your Boss program application was not accepted this time"),
            body=note,
            url=reverse("community_levels:boss"),
            dedupe_key=f"community-boss-decision:{application.pk}",
        )
    return application


# --- Connectors ----------------------------------------------------------------------------------

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
        SourceRun.objects.filter(source=source, state=SourceRun.State.RUNNING).update(
            state=SourceRun.State.INTERRUPTED,
            finished_at=now,
            message=_(
                "The worker stopped during this run (killed or out of time). Nothing stored was lost: "
                "the next run continued from the last stored page."
            ),
        )
        run = SourceRun.objects.create(source=source, started_at=now, started_by=started_by)
        result = SourceSyncResult(run_id=run.pk, state=SourceRun.State.RUNNING)
        connector = connector_for(source)
        cursor = dict(source.cursor or {})
        deadline = time.monotonic() + settings.COMMUNITY_SOURCE_RUN_SECONDS
        fast = connection.vendor == "postgresql"
        try:
            for page in connector.pages(cursor, deadline=deadline):
                records, errors = [], []
                for data in page.events:
                    try:
                        records.append(record_from_mapping(data))
                    except ValueError as error:
                        errors.append(f"{data.get('event_id', '?')}: {error}")
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
    if result.imported or result.revoked or CommunityMember.objects.filter(needs_recompute=True).exists():
        _enqueue_recompute(reason=_("New community activity"))
    return result


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
