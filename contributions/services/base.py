"""What the contributions services share: the year a date counts toward, and saving an item with its
history (who, why) and its evidence file. An item's points are the pure `rules.points_for`."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError

from accounts.models import User
from contributions.errors import ContributionError
from contributions.evidence import display_name, evidence_check, stored_name
from contributions.models import WHOLE_UNITS_CONSTRAINT, Contribution, ProgramYear
from contributions.rules import whole_units_message
from mahome.errors import violated_constraint


def program_year_for_date(*, day: date) -> ProgramYear | None:
    """The program year a contribution dated `day` counts toward (`ProgramYear.objects.containing`)."""
    return ProgramYear.objects.containing(day)


def _evidence_attach(contribution: Contribution, evidence_file: UploadedFile) -> None:
    """Check the file's real type, keep the member's name for display, store it under the server's name."""
    try:
        kind = evidence_check(evidence_file)
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    contribution.evidence_name = display_name(evidence_file.name or "")
    evidence_file.name = stored_name(kind)
    contribution.evidence_file = evidence_file


def _save(contribution: Contribution, *, actor: User | None, reason: str = "") -> None:
    contribution._history_user = actor  # simple-history records who made the change
    if reason:
        contribution._change_reason = reason
    try:
        contribution.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    try:
        contribution.save()
    except IntegrityError as error:
        refusal = _whole_units_violation(error, contribution)
        if refusal is None:
            raise
        raise ContributionError(refusal) from error


def _whole_units_violation(error: IntegrityError, contribution: Contribution) -> str | None:
    """The rule's own words when the database's `contribution_whole_units` trigger refused the row (the
    type's unit was changed to a whole one meanwhile, say); None for any other integrity error.

    The trigger names the unit it found in the error's detail: the transaction is aborted by then, so
    nothing more can be read, and the type loaded earlier may show the unit from before the change."""
    if violated_constraint(error) != WHOLE_UNITS_CONSTRAINT:
        return None
    unit = error.__cause__.diag.message_detail  # type: ignore[union-attr] # the driver's error, read above
    return whole_units_message(type_name=contribution.activity_type.name, unit=unit, quantity=contribution.quantity)
