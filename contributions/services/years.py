"""Program years, their catalogue and requirements, and members' targets (the year-setup writes)."""

from dataclasses import dataclass
from datetime import date

from django.db import IntegrityError, transaction
from django.db.models.functions import Floor
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.services import notifications_create_many
from contributions import rules
from contributions.errors import ContributionError
from contributions.models import (
    UNIT_CHANGE_CONSTRAINT,
    ActivityType,
    Contribution,
    ProgramYear,
    TargetOverride,
    TechnicalRequirement,
)
from mahome.errors import violated_constraint


@transaction.atomic
def program_year_publish(*, program_year: ProgramYear, by: User | None = None) -> ProgramYear:
    """Make a year's rules visible to members; from now on every change is in its history.

    A year whose catalogue has no active activity type is refused: members would see a year with
    nothing to claim."""
    if program_year.published_at is None:
        missing = program_year_missing_for_publication(program_year=program_year)
        if missing:
            raise ContributionError(
                _("%(year)s cannot be published: %(missing)s.") % {"year": program_year.year, "missing": missing}
            )
        program_year.published_at = timezone.now()
        program_year._history_user = by
        program_year.full_clean()
        program_year.save()
    return program_year


def program_year_missing_for_publication(*, program_year: ProgramYear) -> str:
    """What a year lacks before members may see it ("" when nothing): the one rule the action asks."""
    from contributions import selectors

    if not selectors.catalogue_types().filter(program_year=program_year).exists():
        return _(
            "its catalogue has no active activity type. Add the types (Activity types › Add) or use the "
            "action “Copy catalogue and requirements from another year…”"
        )
    return ""


# Fields of a year whose change, once published, alters what members owe: a reason is required.
TARGET_FIELDS = ("target_points", "prorating_method")
REASON_MAX_LENGTH = 100  # simple-history's history_change_reason


def _reason_required(*, reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ContributionError(
            _("%(what)s is published: say why it changes (the reason is kept in the history).") % {"what": what}
        )
    return reason[:REASON_MAX_LENGTH]


def _targets(*, program_year: ProgramYear, members: list[User], base: int, method: str) -> dict[int, int]:
    return {
        member.pk: rules.prorated_target(
            base=base,
            method=method,
            qualified_on=member.certification.qualified_on,
            opens_on=program_year.opens_on,
            deadline=program_year.deadline,
        ).points
        for member in members
    }


@transaction.atomic
def program_year_save(*, program_year: ProgramYear, by: User | None, reason: str = "") -> ProgramYear:
    """Create or change a program year's rules and dates; the history records who (`by`).

    Years may not overlap (ProgramYear.clean): every year's row is locked first, so two staff
    saving overlapping years at once are checked one after the other. Once the year is published,
    a change of its target (points or pro-rating) needs a `reason`, kept in the history, and every
    member whose own target changes (no override) is told the old and new number and why.
    """
    list(ProgramYear.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    before = ProgramYear.objects.filter(pk=program_year.pk).first() if program_year.pk else None
    # The published year whose target this save changes (None: no member's target changes).
    changed_from = (
        before
        if before is not None
        and before.published_at is not None
        and any(getattr(before, name) != getattr(program_year, name) for name in TARGET_FIELDS)
        else None
    )
    target_reason = ""
    if changed_from is not None:
        target_reason = _reason_required(reason=reason, what=_("The %(year)s year") % {"year": program_year.year})
        program_year._change_reason = target_reason
    elif reason.strip():
        program_year._change_reason = reason.strip()[:REASON_MAX_LENGTH]
    program_year._history_user = by
    program_year.full_clean()
    program_year.save()
    if changed_from is not None:
        _tell_members_their_new_target(program_year=program_year, before=changed_from, reason=target_reason)
    return program_year


def _tell_members_their_new_target(*, program_year: ProgramYear, before: ProgramYear, reason: str) -> int:
    from contributions import selectors

    overridden = TargetOverride.objects.filter(program_year=program_year).values("member_id")
    members = list(selectors.eligible_members(program_year=program_year).exclude(pk__in=overridden))
    old = _targets(program_year=before, members=members, base=before.target_points, method=before.prorating_method)
    new = _targets(
        program_year=program_year,
        members=members,
        base=program_year.target_points,
        method=program_year.prorating_method,
    )
    changed = [member for member in members if old[member.pk] != new[member.pk]]
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    return notifications_create_many(
        kind="maintenance.target_changed",
        user_ids=[member.pk for member in changed],
        titles=[_("Your %(year)s target changed") % {"year": program_year.year}] * len(changed),
        bodies=[
            _("Your %(year)s target is now %(new)s points (it was %(old)s). Why: %(reason)s")
            % {"year": program_year.year, "new": new[m.pk], "old": old[m.pk], "reason": reason}
            for m in changed
        ],
        dedupe_keys=[f"target-{program_year.year}-{stamp}"] * len(changed),
        url=reverse("dashboard"),
    )


@dataclass(frozen=True)
class CatalogueCopy:
    types_copied: int
    types_skipped: int  # the new year already has a type with that code
    requirements_copied: int
    requirements_skipped: int


def _a_year_on(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _copied_fields(instance, model) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in model._meta.concrete_fields
        if f.name not in ("id", "program_year")
    }


@transaction.atomic
def program_year_copy_catalogue(*, program_year: ProgramYear, source: ProgramYear, by: User | None) -> CatalogueCopy:
    """Copy `source`'s active activity types and its technical requirements onto a year not yet published.

    Codes the year already has are left as they are; requirements' due dates move by the years
    between the two. Everything copied is editable until the year is published; each copy is in
    its history with who and "Copied from <year>".
    """
    locked = ProgramYear.objects.select_for_update().get(pk=program_year.pk)
    if locked.published_at is not None:
        raise ContributionError(
            _("%(year)s is already published: change its catalogue one type at a time, with a reason.")
            % {"year": locked.year}
        )
    if source.pk == locked.pk:
        raise ContributionError(_("Choose another year to copy from."))
    reason = _("Copied from %(year)s") % {"year": source.year}
    years = locked.year - source.year
    existing_types = set(ActivityType.objects.filter(program_year=locked).values_list("code", flat=True))
    copied_types = skipped_types = 0
    for original in ActivityType.objects.filter(program_year=source, is_active=True).order_by("pk"):
        if original.code in existing_types:
            skipped_types += 1
            continue
        copy = ActivityType(program_year=locked, **_copied_fields(original, ActivityType))
        copy._history_user = by
        copy._change_reason = reason
        copy.full_clean()
        copy.save()
        copied_types += 1
    existing_requirements = set(TechnicalRequirement.objects.filter(program_year=locked).values_list("code", flat=True))
    copied_requirements = skipped_requirements = 0
    for original_requirement in TechnicalRequirement.objects.filter(program_year=source).order_by("pk"):
        if original_requirement.code and original_requirement.code in existing_requirements:
            skipped_requirements += 1
            continue
        requirement = TechnicalRequirement(
            program_year=locked, **_copied_fields(original_requirement, TechnicalRequirement)
        )
        requirement.due_on = _a_year_on(original_requirement.due_on, years)
        requirement._history_user = by
        requirement._change_reason = reason
        requirement.full_clean()
        requirement.save()
        copied_requirements += 1
    return CatalogueCopy(copied_types, skipped_types, copied_requirements, skipped_requirements)


@transaction.atomic
def technical_requirement_save(*, requirement: TechnicalRequirement, by: User | None) -> TechnicalRequirement:
    """Create or change one of a year's technical requirements; the history records who."""
    requirement._history_user = by
    requirement.full_clean()
    requirement.save()
    return requirement


@transaction.atomic
def technical_requirement_delete(*, requirement: TechnicalRequirement, by: User | None) -> None:
    """Remove a requirement (its deletion is kept in the history, with who)."""
    requirement._history_user = by
    requirement.delete()


def activity_type_changed(*, activity_type: ActivityType) -> bool:
    """Whether saving `activity_type` would change the catalogue (new, or any field different)."""
    stored = ActivityType.objects.filter(pk=activity_type.pk).first() if activity_type.pk else None
    if stored is None:
        return True
    return any(
        getattr(stored, f.attname) != getattr(activity_type, f.attname) for f in ActivityType._meta.concrete_fields
    )


@transaction.atomic
def activity_type_save(*, activity_type: ActivityType, by: User | None, reason: str = "") -> ActivityType:
    """Create or change a line of a year's catalogue; the history records who (`by`).

    Once its year is published, a change of the catalogue (a new type or an edit) needs a `reason`,
    kept in the history."""
    published = ProgramYear.objects.filter(pk=activity_type.program_year_id, published_at__isnull=False).exists()
    if published and activity_type_changed(activity_type=activity_type):
        activity_type._change_reason = _reason_required(
            reason=reason, what=_("The %(year)s catalogue") % {"year": activity_type.program_year.year}
        )
    elif reason.strip():
        activity_type._change_reason = reason.strip()[:REASON_MAX_LENGTH]
    activity_type._history_user = by
    activity_type.full_clean()
    _whole_units_change_check(activity_type=activity_type)
    try:
        with transaction.atomic():  # a savepoint: the refusal's words are counted after it
            activity_type.save()
    except IntegrityError as error:
        if violated_constraint(error) != UNIT_CHANGE_CONSTRAINT:
            raise
        raise ContributionError(_unit_change_violation(activity_type=activity_type), field="unit") from error
    return activity_type


def _whole_units_change_check(*, activity_type: ActivityType) -> None:
    """The service's side of `unit_change_refusal`, with the type's row locked first: the database's
    `contribution_whole_units` trigger reads it FOR SHARE, so a fractional claim written meanwhile
    either is counted here or meets the new unit."""
    if activity_type.pk is None or activity_type.takes_fractions:
        return
    ActivityType.objects.select_for_update(no_key=True).filter(pk=activity_type.pk).first()
    refusal = unit_change_refusal(activity_type_id=activity_type.pk, unit=activity_type.unit)
    if refusal:
        raise ContributionError(refusal, field="unit")


def _unit_change_violation(*, activity_type: ActivityType) -> str:
    """The rule's words when PostgreSQL's trigger (migration 0026, `UNIT_CHANGE_CONSTRAINT`) refused the
    unit. `_whole_units_change_check` refuses the same change first, under the type's row lock; should
    the two ever disagree, staff still read the rule, not a constraint's name. Counted again after the
    savepoint's rollback: if no such claim is left by then, the change may simply be tried again."""
    refusal = unit_change_refusal(activity_type_id=activity_type.pk, unit=activity_type.unit)
    return refusal or _("Claims of “%(type)s” changed while its unit was being saved; try again in a moment.") % {
        "type": activity_type.name
    }


def unit_change_refusal(*, activity_type_id: int | None, unit: str) -> str | None:
    """Why a type cannot be counted in `unit` now (hours → sessions while claims of it count part of
    an hour), or None. The admin's form and `activity_type_save` ask it."""
    stored = ActivityType.objects.filter(pk=activity_type_id).first() if activity_type_id else None
    if stored is None or not stored.takes_fractions or ActivityType(unit=unit).takes_fractions:
        return None
    fractional = Contribution.objects.filter(activity_type_id=stored.pk).exclude(quantity=Floor("quantity")).count()
    if not fractional:
        return None
    return ngettext(
        "%(count)s contribution of “%(type)s” claims part of one %(unit)s, so the type cannot be counted "
        "%(new_unit)s: correct that claim first, or add a new type for the new unit.",
        "%(count)s contributions of “%(type)s” claim part of one %(unit)s, so the type cannot be counted "
        "%(new_unit)s: correct those claims first, or add a new type for the new unit.",
        fractional,
    ) % {
        "count": fractional,
        "type": stored.name,
        "unit": rules.UNIT_SINGULAR[stored.unit],
        "new_unit": ActivityType.Unit(unit).label,
    }


@transaction.atomic
def target_override_set(
    *, member: User, program_year: ProgramYear, target_points: int, reason: str, set_by: User | None
) -> TargetOverride:
    """Give a member a different target this year; the reason is shown on their dashboard."""
    if not reason.strip():
        raise ContributionError(_("An override needs a reason."))
    override = TargetOverride.objects.filter(member=member, program_year=program_year).first() or TargetOverride(
        member=member, program_year=program_year
    )
    override.target_points = target_points
    override.reason = reason.strip()
    override.set_by = set_by
    override._history_user = set_by
    override.full_clean(validate_unique=False, validate_constraints=False)
    override.save()
    return override
