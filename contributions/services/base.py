"""What the contributions services share: the year a date counts toward, and saving an item with its
history (who, why) and its evidence file. An item's points are the pure `rules.points_for`."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from accounts.models import User
from contributions.errors import ContributionError
from contributions.evidence import display_name, evidence_check, stored_name
from contributions.models import Contribution, ProgramYear


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
    contribution.save()
