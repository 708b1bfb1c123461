"""Technical requirements: members' reports through the verification queue and staff recording them."""

from dataclasses import dataclass, field
from datetime import date

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from contributions import rules
from contributions.errors import ContributionError
from contributions.models import (
    ActivityType,
    Contribution,
    ProgramYear,
    RequirementStatus,
    TechnicalRequirement,
)
from contributions.services.base import _evidence_attach, _save
from contributions.services.locks import BUSY_REQUIREMENT, _staff_write

REQUIREMENT_REPORT_CODE = "technical-requirement-report"
OPEN_STATES = Contribution.OPEN_STATES


def requirement_report_type(*, program_year: ProgramYear) -> ActivityType:
    """The year's hidden activity type that carries requirement reports through the contribution queue."""
    activity_type, _created = ActivityType.objects.get_or_create(
        program_year=program_year,
        code=REQUIREMENT_REPORT_CODE,
        defaults={
            "name": _("Technical requirement report"),
            "category": ActivityType.Category.ENABLEMENT,
            "description": _("A training completed or a credential held, reported by the member with evidence."),
            "points": 0,
            "evidence_required": True,
            "tracking": ActivityType.Tracking.REQUIREMENT,
        },
    )
    return activity_type


def requirement_report_refusal(
    *, requirement: TechnicalRequirement, member: User, today: date | None = None
) -> str | None:
    """Why this member cannot report this requirement now, or None (the page and the service ask the same)."""

    today = today or timezone.localdate()
    certification = getattr(member, "certification", None)
    qualified_on = certification.qualified_on if certification else None
    if certification is None:
        return _("Only certified Master Anaplanners report technical requirements.")
    if not rules.requirement_owed(due_on=requirement.due_on, qualified_on=qualified_on):
        return _("“%(name)s” was due before you qualified, so it is not owed this year.") % {"name": requirement.name}
    if not requirement.program_year.takes_submissions(today) or not requirement.program_year.has_opened(today):
        return _("Reports for the %(year)s program year are not open.") % {"year": requirement.program_year.year}
    if RequirementStatus.objects.filter(requirement=requirement, member=member, met_on__isnull=False).exists():
        return _("“%(name)s” is already recorded as met.") % {"name": requirement.name}
    if Contribution.objects.filter(member=member, requirement=requirement, state__in=OPEN_STATES).exists():
        return _already_reported(requirement)
    return None


@transaction.atomic
def requirement_report_create(
    *,
    member: User,
    requirement: TechnicalRequirement,
    met_on: date,
    note: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    today: date | None = None,
) -> Contribution:
    """A member reports a training completed or a credential held; it waits in the verification queue.

    One open report per member and requirement: a partial unique constraint decides under
    concurrency, and the loser gets the same sentence as the check before it.
    """
    today = today or timezone.localdate()
    refusal = requirement_report_refusal(requirement=requirement, member=member, today=today)
    if refusal:
        raise ContributionError(refusal)
    if met_on > today:
        raise ContributionError(_("The date cannot be in the future."))
    if not (evidence_url or evidence_file):
        raise ContributionError(
            _("Show the program team it is done: add a link or a file (a certificate, a completion email).")
        )
    program_year = requirement.program_year
    report = Contribution(
        member=member,
        program_year=program_year,
        activity_type=requirement_report_type(program_year=program_year),
        requirement=requirement,
        title=requirement_report_title(requirement),
        description=note,
        occurred_on=met_on,
        quantity=1,
        evidence_url=evidence_url,
        state=Contribution.State.SUBMITTED,
        claimed_points=0,
        submitted_at=timezone.now(),
        source=Contribution.Source.MANUAL,
    )
    if evidence_file is not None:
        _evidence_attach(report, evidence_file)
    try:
        with transaction.atomic():
            _save(report, actor=member)
    except IntegrityError as error:
        raise ContributionError(_already_reported(requirement)) from error
    return report


def _already_reported(requirement: TechnicalRequirement) -> str:
    """The check before the report and the unique constraint under concurrency say the same."""
    return _("You already reported “%(name)s”; it is waiting for the program team.") % {"name": requirement.name}


def requirement_report_title(requirement: TechnicalRequirement) -> str:
    """A report's title in the queue: what was done, by the requirement's kind."""
    label = (
        _("Training completed: %(name)s")
        if requirement.kind == TechnicalRequirement.Kind.TRAINING
        else _("Credential held: %(name)s")
    )
    return (label % {"name": requirement.name})[:200]


def _requirement_sync(contribution: Contribution, *, actor: User) -> None:
    """A verified report records the requirement as met; a report undone takes back what it recorded."""
    if contribution.requirement_id is None:
        return
    status = (
        RequirementStatus.objects.select_for_update(no_key=True)
        .filter(requirement_id=contribution.requirement_id, member_id=contribution.member_id)
        .first()
    )
    if contribution.state == Contribution.State.VERIFIED and contribution.requirement is not None:
        # The same rule as staff recording it by hand: a completion after the due date needs a
        # program admin's reason (the decision's note).
        refusal = requirement_date_refusal(
            requirement=contribution.requirement,
            met_on=contribution.occurred_on,
            by=actor,
            override_reason=contribution.decision_note,
        )
        if refusal:
            raise ContributionError(refusal)
        status = status or RequirementStatus(requirement_id=contribution.requirement_id, member=contribution.member)
        status.met_on = contribution.occurred_on
        status.report = contribution
        status.note = str(_("Reported by the member and verified."))
    elif status is not None and status.report_id == contribution.pk:
        status.met_on = None
        status.report = None
        status.note = str(_("The member's report is no longer verified."))
    else:
        return
    status._history_user = actor
    status.full_clean(validate_unique=False, validate_constraints=False)
    status.save()


def requirement_report_verified_title(report: Contribution, *, corrected: bool = False) -> str:
    """The member's notice that their report is verified: the requirement is recorded as met, on the date
    they reported; a report earns no points, so the notice names none."""
    assert report.requirement is not None, "a requirement report names its requirement"
    values = {"name": report.requirement.name, "date": date_format(report.occurred_on)}
    if corrected:
        return _("Decision corrected: your report is verified; “%(name)s” is recorded as met on %(date)s") % values
    return _("Your report is verified: “%(name)s” is recorded as met on %(date)s") % values


def requirement_report_decision_lines(*, report: Contribution, staff: User, correcting: bool = False) -> list[str]:
    """What deciding (or `correcting` the decision on) a member's requirement report does, in the words its
    decide (or correct) page shows `staff`.

    A report earns no points (a constraint says so); verifying it records the requirement as met
    (`_requirement_sync`), and a completion after the due date needs a program admin's reason, given
    as the decision's message (`requirement_date_refusal`, the rule the decision itself applies).
    """
    requirement = report.requirement
    assert requirement is not None, "a requirement report names its requirement"
    values = {
        "name": requirement.name,
        "date": date_format(report.occurred_on),
        "due": date_format(requirement.due_on),
        "member": report.member.display_name,
    }
    if correcting:
        lines = [
            _(
                "Verified records “%(name)s” as met on %(date)s for %(member)s and tells them. "
                "No points: a technical requirement earns none."
            )
            % values,
            _(
                "Not accepted leaves the requirement to do (what a verified report recorded is taken back) and "
                "tells them why; they may report it again. Reopen puts the report back in the queue."
            ),
        ]
        late_for_admin = _(
            "%(date)s is after the due date of “%(name)s” (%(due)s): to verify it, write why in the reason "
            "shown to the member; it is kept with the decision."
        )
        late_for_verifier = _(
            "%(date)s is after the due date of “%(name)s” (%(due)s). Only a program admin can verify it."
        )
    else:
        lines = [
            _(
                "Verify records “%(name)s” as met on %(date)s for %(member)s and tells them. "
                "No points: a technical requirement earns none."
            )
            % values,
            _(
                "Reject leaves the requirement to do (the member may report it again) and tells them why. "
                "Ask for more information keeps the report open until they answer."
            ),
        ]
        late_for_admin = _(
            "%(date)s is after the due date of “%(name)s” (%(due)s): to verify it, write the reason in "
            "the message to the member; it is kept with the decision."
        )
        late_for_verifier = _(
            "%(date)s is after the due date of “%(name)s” (%(due)s). Only a program admin can verify it; "
            "you may ask the member for more information or reject it."
        )
    if requirement_date_refusal(requirement=requirement, met_on=report.occurred_on, by=staff) is not None:
        lines.append((late_for_admin if may_override_requirement_date(staff) else late_for_verifier) % values)
    return lines


def may_override_requirement_date(user: User | None) -> bool:
    return user is not None and user.has_perm("contributions.override_requirement_date")


def requirement_date_refusal(
    *,
    requirement: TechnicalRequirement,
    met_on: date | None,
    by: User | None,
    override_reason: str = "",
    today: date | None = None,
) -> str | None:
    """Why a completion date cannot be recorded (None: it can). The one rule for the admin form,
    the import, the bulk action and the service.

    A completion cannot be in the future; after the due date it needs a program admin's reason.
    """
    if met_on is None:
        return None
    today = today or timezone.localdate()
    if met_on > today:
        return _("The completion date %(date)s is in the future.") % {"date": date_format(met_on)}
    if met_on <= requirement.due_on:
        return None
    late = {"date": date_format(met_on), "due": date_format(requirement.due_on), "name": requirement.name}
    if not override_reason.strip():
        return (
            _(
                "%(date)s is after the due date of “%(name)s” (%(due)s): a program admin may record it "
                "with an override reason."
            )
            % late
        )
    if not may_override_requirement_date(by):
        return _("%(date)s is after the due date of “%(name)s” (%(due)s). Only a program admin can override it.") % late
    return None


@_staff_write(BUSY_REQUIREMENT)
def requirement_status_set(
    *,
    requirement: TechnicalRequirement,
    member: User,
    met_on: date | None,
    note: str = "",
    by: User | None = None,
    override_reason: str = "",
    today: date | None = None,
) -> RequirementStatus:
    """Record whether a member met a technical requirement (and when), under the status row's lock.

    The date is checked by `requirement_date_refusal`; an override's reason goes into the history.
    """
    refusal = requirement_date_refusal(
        requirement=requirement, met_on=met_on, by=by, override_reason=override_reason, today=today
    )
    if refusal:
        raise ContributionError(refusal)
    locked = RequirementStatus.objects.select_for_update(no_key=True).filter(requirement=requirement, member=member)
    existing = locked.first()
    created = existing is None
    status = RequirementStatus(requirement=requirement, member=member) if existing is None else existing
    _requirement_status_fill(status, met_on=met_on, note=note, by=by, override_reason=override_reason)
    if created:
        try:
            with transaction.atomic():
                status.save()
            return status
        except IntegrityError:  # created meanwhile by another request: update that one
            status = locked.get()
            _requirement_status_fill(status, met_on=met_on, note=note, by=by, override_reason=override_reason)
    status.save()
    return status


def _requirement_status_fill(
    status: RequirementStatus, *, met_on: date | None, note: str, by: User | None, override_reason: str
) -> None:
    status.met_on = met_on
    status.note = note[:300]
    status._history_user = by
    if override_reason.strip() and met_on is not None and met_on > status.requirement.due_on:
        status._change_reason = f"override: {override_reason.strip()}"[:100]
    status.full_clean(validate_unique=False, validate_constraints=False)


@dataclass
class StatusBulkResult:
    done: list[RequirementStatus] = field(default_factory=list)
    skipped: list[tuple[RequirementStatus, str]] = field(default_factory=list)  # (status, why)


def requirement_statuses_mark_met(
    *, status_ids: list[int], met_on: date, note: str, by: User, override_reason: str = ""
) -> StatusBulkResult:
    """Mark the selected members as having met their requirement on `met_on`; each row that the date
    rule refuses is skipped and named with the reason."""
    result = StatusBulkResult()
    statuses = RequirementStatus.objects.filter(pk__in=status_ids).select_related("requirement", "member")
    for status in statuses.order_by("member__email", "requirement__name"):
        try:
            saved = requirement_status_set(
                requirement=status.requirement,
                member=status.member,
                met_on=met_on,
                note=note or status.note,
                by=by,
                override_reason=override_reason,
            )
        except ContributionError as error:
            result.skipped.append((status, str(error)))
        else:
            result.done.append(saved)
    return result
