"""Activity comes in (files, records, the drop folder) and members' scores follow."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from community_levels.ingestion import (
    IngestResult,
    LineError,
    UnreadableFile,
    ingest_file,
    is_activity_file,
    parse_file,
)
from community_levels.marks import members_mark, members_mark_ids
from community_levels.models import (
    ActivityEvent,
    CommunityMember,
    PendingRecompute,
)
from community_levels.recompute import RecomputeResult, levels_recompute
from community_levels.services.common import FILE_SOURCE, CommunityError, enqueue_recompute

logger = logging.getLogger("community_levels.services")


@contextmanager
def _text_file_only() -> Iterator[None]:
    """A file that is not text is refused as a whole, before its first line is read or written."""
    try:
        yield
    except UnreadableFile as error:
        raise CommunityError(str(error), field="file") from None


def activity_ingest_file(
    *, path: Path | str, source: str = FILE_SOURCE, recompute: bool = True, batch_size: int | None = None
) -> IngestResult:
    """Ingest a JSON Lines or CSV file of canonical events; then recompute the members it touched.

    Raises CommunityError, with nothing written, for a file that is not text (`text_file_refusal`).
    """
    batch_size = batch_size or settings.COMMUNITY_INGEST_BATCH_SIZE
    with _text_file_only():
        result = ingest_file(path, source=source, batch_size=batch_size)
    if recompute and _recompute_due(result):
        enqueue_recompute(reason=_("New community activity"))
    return result


def _recompute_due(result: IngestResult) -> bool:
    """New events, or members still marked by an earlier run that died before its recompute was enqueued
    (its re-run finds only duplicates, yet those members must still be placed)."""
    return bool(result.imported) or PendingRecompute.objects.exists()


PREVIEW_BATCH = 5000


def activity_preview_file(*, path: Path | str, source: str = FILE_SOURCE) -> tuple[IngestResult, int]:
    """Parse without writing: the counts and bad lines an import would report, and the good lines.

    `result.imported` is how many good lines are new events and `result.duplicates` how many are
    already stored (or repeat an earlier line of the file): re-importing a file says "0 new". The
    stored ids are looked up in batches, so a file of any size is parsed once, in constant memory
    apart from the set of its event ids. Raises CommunityError for a file that is not text.
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

    with _text_file_only():
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
    """Ingest every file in the drop folder, then move it to processed/ (safe to re-run).

    A file that is not text is moved to refused/ untouched, with a warning in the log: it would be
    refused again on every run, and the files after it still go in.
    """
    folder = Path(folder or settings.COMMUNITY_DROP_FOLDER)
    processed = folder / "processed"
    folder.mkdir(parents=True, exist_ok=True)
    processed.mkdir(exist_ok=True)
    done = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and is_activity_file(p)):
        try:
            result = activity_ingest_file(path=path, source=FILE_SOURCE)
        except CommunityError as error:
            logger.warning("Drop folder: %s refused and moved to refused/: %s", path.name, error)
            _move_aside(path, folder / "refused")
            continue
        _move_aside(path, processed)
        done.append((path.name, result))
    return done


def _move_aside(path: Path, folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    target = folder / path.name
    if target.exists():
        target = folder / f"{path.stem}-{timezone.now():%Y%m%d%H%M%S}{path.suffix}"
    path.rename(target)


def recompute(*, full: bool = False, reason: str = "", is_rule_change: bool = False) -> RecomputeResult:
    return levels_recompute(full=full, reason=reason, is_rule_change=is_rule_change)


@transaction.atomic
def member_set_excluded(*, member: CommunityMember, excluded: bool) -> CommunityMember:
    """Exclude (or include again) a member's events from their score; recompute follows."""
    member.is_excluded = excluded
    member.full_clean()
    member.save(update_fields=["is_excluded"])
    with connection.cursor() as cursor:
        members_mark_ids(cursor, [member.pk])
    enqueue_recompute(reason=_("Events excluded by an admin") if excluded else _("Events included again"))
    return member


@transaction.atomic
def members_link_accounts() -> int:
    """Link community members to MA accounts with the same email (for accounts created later).

    One set-based UPDATE; linked members are recomputed so their contributions follow.
    """
    member, user = CommunityMember._meta.db_table, User._meta.db_table
    match = f"SELECT u.id FROM {user} u WHERE LOWER(u.email) = {member}.email"  # noqa: S608
    unlinked = f"user_id IS NULL AND email <> '' AND EXISTS ({match})"
    with connection.cursor() as cursor:
        # Marked first, then linked: the same members, in one transaction.
        members_mark(cursor, f"SELECT id FROM {member} WHERE {unlinked}")  # noqa: S608 - model table names
        cursor.execute(f"UPDATE {member} SET user_id = ({match}) WHERE {unlinked}")  # noqa: S608
        linked = cursor.rowcount
    if linked:
        enqueue_recompute(reason=_("Linked to an MA account"))
    return linked
