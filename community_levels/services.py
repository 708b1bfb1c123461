"""Every write of the community_levels app (ingestion and recompute live in their own modules)."""

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from community_levels.ingestion import IngestResult, ParsedLine, ingest_stream, parse_file
from community_levels.models import (
    BossApplication,
    BossProgramWindow,
    CommunityMember,
    CommunitySource,
    Level,
    LevelRequirement,
    ScoringWeight,
)
from community_levels.recompute import RecomputeResult, levels_recompute

logger = logging.getLogger(__name__)

FILE_SOURCE = "file"


class CommunityError(Exception):
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
    result = ingest_stream(parse_file(path), source=source, batch_size=batch_size)
    if recompute and _recompute_due(result):
        _enqueue_recompute(reason=_("New community activity"))
    return result


def activity_ingest_records(*, items: Iterable[ParsedLine], source: str, recompute: bool = True) -> IngestResult:
    result = ingest_stream(items, source=source)
    if recompute and _recompute_due(result):
        _enqueue_recompute(reason=_("New community activity"))
    return result


def _recompute_due(result: IngestResult) -> bool:
    """New events, or members still marked by an earlier run that died before its recompute was enqueued
    (its re-run finds only duplicates, yet those members must still be placed)."""
    return bool(result.imported) or CommunityMember.objects.filter(needs_recompute=True).exists()


def activity_preview_file(*, path: Path | str) -> tuple[IngestResult, int]:
    """Parse without writing: the counts and bad lines an import would report, and the good lines."""
    result = IngestResult()
    good = 0
    for line_no, item in parse_file(path):
        result.read += 1
        if hasattr(item, "reason"):
            result.bad += 1
            if len(result.errors) < 100:
                result.errors.append({"line": line_no, "reason": item.reason})
        else:
            good += 1
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
    level_scores: dict[int, object] | None = None,
    requirement_minimums: dict[int, int] | None = None,
    weights: dict[int, tuple[object, int | None]] | None = None,
) -> int:
    """Save edited thresholds and weights (with history) and trigger a full recompute."""
    changed = 0
    for level in Level.objects.filter(pk__in=list(level_scores or {})):
        new = level_scores[level.pk]
        if level.min_score != new:
            level.min_score = new
            level._history_user = changed_by
            level.full_clean()
            level.save()
            changed += 1
    for requirement in LevelRequirement.objects.filter(pk__in=list(requirement_minimums or {})):
        new = requirement_minimums[requirement.pk]
        if requirement.minimum != new:
            requirement.minimum = new
            requirement._history_user = changed_by
            requirement.full_clean()
            requirement.save()
            changed += 1
    for weight in ScoringWeight.objects.filter(pk__in=list(weights or {})):
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
            url="/community/boss/",
            dedupe_key=f"community-boss-decision:{application.pk}",
        )
    return application


# --- Connectors ----------------------------------------------------------------------------------


def source_sync(*, source_id: int) -> IngestResult:
    """Pull what is new from one platform source through the same ingestion pipeline."""
    from community_levels.connectors import connector_for

    source = CommunitySource.objects.get(pk=source_id)
    started = timezone.now()
    connector = connector_for(source)
    result = IngestResult()
    error = ""
    try:
        result = activity_ingest_records(items=connector.events(since=source.watermark), source=source.slug)
    except Exception as exc:
        logger.exception("Community source %s failed", source.slug)
        error = f"{type(exc).__name__}: {exc}"
    updates = {
        "last_run_at": started,
        "last_run_ok": not error,
        "last_run_items": result.read,
        "last_run_imported": result.imported,
        "last_run_errors": result.bad + connector.errors + (1 if error else 0),
        "last_error": error or "; ".join(f"line {e['line']}: {e['reason']}" for e in result.errors[:5]),
        "cursor": connector.cursor,
    }
    if not error:
        updates["watermark"] = started
    CommunitySource.objects.filter(pk=source.pk).update(**updates)
    return result
