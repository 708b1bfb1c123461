"""A member's own contributions: create, change, submit, answer a question, delete a draft, withdraw."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from contributions.errors import ContributionError
from contributions.models import (
    ActivityType,
    Contribution,
    ContributionMessage,
    ProgramYear,
)
from contributions.rules import points_for, quantity_refusal
from contributions.services.base import _evidence_attach, _save, program_year_for_date
from contributions.services.locks import BUSY_OWN, _locked_write, member_claims_lock

EDITABLE_STATES = (Contribution.State.DRAFT, Contribution.State.NEEDS_INFO)
WITHDRAWABLE_STATES = Contribution.OPEN_STATES


def submission_refusal(*, program_year: ProgramYear, today: date) -> str | None:
    """Why a member cannot submit for this year today (None while `ProgramYear.takes_submissions`).

    The form that explains a type no longer offered and every submitting service say the same words.
    """
    if program_year.takes_submissions(today):
        return None
    return _(
        "The %(year)s program year closed on %(deadline)s: new submissions for it are no longer accepted. "
        "If you have a good reason, contact the program team; only they can open a grace period."
    ) % {"year": program_year.year, "deadline": date_format(program_year.deadline)}


def _submission_window_check(*, program_year: ProgramYear, today: date) -> None:
    refusal = submission_refusal(program_year=program_year, today=today)
    if refusal is not None:
        raise ContributionError(refusal)


def _date_check(*, activity_type: ActivityType, occurred_on: date, today: date) -> None:
    program_year = activity_type.program_year
    if occurred_on > today:
        raise ContributionError(_("The date cannot be in the future."))
    if not (program_year.opens_on <= occurred_on < program_year.deadline):
        raise ContributionError(date_outside_year_message(program_year=program_year, occurred_on=occurred_on))


def program_year_span(program_year: ProgramYear) -> str:
    """The year's days as members read them, both ends included: "1 Jan 2026 – 31 Dec 2026"."""
    return f"{date_format(program_year.opens_on)} – {date_format(program_year.last_day)}"


def date_outside_year_message(*, program_year: ProgramYear, occurred_on: date) -> str:
    """Why a date does not fit the chosen type's year, and what would fit (a type of the date's year, if any)."""
    facts = {
        "date": date_format(occurred_on),
        "year": program_year.year,
        "span": program_year_span(program_year),
    }
    other = program_year_for_date(day=occurred_on)
    if other is None:
        return (
            _(
                "%(date)s is outside the %(year)s year (%(span)s). No program year covers %(date)s, so it "
                "cannot count: use a date within the %(year)s year."
            )
            % facts
        )
    offered = ActivityType.objects.filter(
        program_year=other, is_active=True, tracking=ActivityType.Tracking.MANUAL
    ).exists()
    if offered and other.takes_submissions(timezone.localdate()):
        return _(
            "%(date)s falls in the %(other)s program year, not %(year)s (%(span)s): choose a %(other)s "
            "activity type for it."
        ) % (facts | {"other": other.year})
    return _(
        "%(date)s falls in the %(other)s program year, which no longer takes submissions. The %(year)s year "
        "runs %(span)s: use a date within it."
    ) % (facts | {"other": other.year})


def _quantity_check(*, activity_type: ActivityType, quantity: Decimal | int) -> None:
    refusal = quantity_refusal(activity_type=activity_type, quantity=quantity)
    if refusal:
        raise ContributionError(refusal)


def _evidence_check_for_submit(contribution: Contribution) -> None:
    if contribution.activity_type.evidence_required and not (contribution.evidence_url or contribution.evidence_file):
        raise ContributionError(
            _("“%(type)s” needs evidence: add a link or a file before submitting.")
            % {"type": contribution.activity_type.name}
        )


def _claim_check(*, activity_type: ActivityType, occurred_on: date, quantity: Decimal | int, today: date) -> None:
    """What a member's claim must satisfy, new or changed: a type claimed by hand and still offered,
    a year taking submissions, a date within it, a quantity within the type's maximum per claim."""
    if activity_type.tracking != ActivityType.Tracking.MANUAL or not activity_type.is_active:
        raise ContributionError(
            _("“%(type)s” is credited automatically or no longer offered; it cannot be submitted by hand.")
            % {"type": activity_type.name}
        )
    _submission_window_check(program_year=activity_type.program_year, today=today)
    _date_check(activity_type=activity_type, occurred_on=occurred_on, today=today)
    _quantity_check(activity_type=activity_type, quantity=quantity)


def _same_claim_check(contribution: Contribution) -> None:
    """Refuse a claim the member has already made (`selectors.same_claims`), saying what to do with the
    one they made. Checked and written under the member's claims lock, so the same form sent twice at
    once makes one claim."""
    from contributions import selectors

    member_claims_lock(contribution.member_id)
    first = selectors.same_claims(contribution=contribution).first()
    if first is None:
        return
    if first.state in EDITABLE_STATES:
        advice = _("To claim more of it, change that claim's quantity.")
    elif first.state == Contribution.State.SUBMITTED:
        advice = _("To claim more of it, withdraw it and claim the total.")
    else:
        advice = _("It is verified already; another occasion needs its own date, title or link.")
    raise ContributionError(
        _("You already claimed this: “%(title)s” (#%(number)s, %(state)s) on %(date)s, with the same type and link.")
        % {
            "title": first.title,
            "number": first.pk,
            "state": first.get_state_display().lower(),
            "date": date_format(first.occurred_on, "j M Y"),
        }
        + " "
        + advice
    )


@transaction.atomic
def contribution_create(
    *,
    member: User,
    activity_type: ActivityType,
    title: str,
    occurred_on: date,
    quantity: Decimal | int = 1,
    description: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    submit: bool = False,
    today: date | None = None,
) -> Contribution:
    """A member's new contribution (a draft, or submitted at once); points come from the type."""
    today = today or timezone.localdate()
    _claim_check(activity_type=activity_type, occurred_on=occurred_on, quantity=quantity, today=today)
    contribution = Contribution(
        member=member,
        program_year=activity_type.program_year,
        activity_type=activity_type,
        title=title,
        description=description,
        occurred_on=occurred_on,
        quantity=quantity,
        evidence_url=evidence_url,
        state=Contribution.State.DRAFT,
        claimed_points=points_for(activity_type=activity_type, quantity=quantity),
        source=Contribution.Source.MANUAL,
    )
    if evidence_file is not None:
        _evidence_attach(contribution, evidence_file)
    if submit:
        _evidence_check_for_submit(contribution)
        contribution.state = Contribution.State.SUBMITTED
        contribution.submitted_at = timezone.now()
    _same_claim_check(contribution)
    _save(contribution, actor=member)
    return contribution


@_locked_write(BUSY_OWN)
def contribution_update(
    *,
    contribution: Contribution,
    member: User,
    activity_type: ActivityType,
    title: str,
    occurred_on: date,
    quantity: Decimal | int,
    description: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    today: date | None = None,
) -> Contribution:
    """Change a draft, or answer a verifier's question on an item that needs more information."""
    today = today or timezone.localdate()
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state not in EDITABLE_STATES:
        raise ContributionError(_("Only drafts and items that need more information can be changed."))
    _claim_check(activity_type=activity_type, occurred_on=occurred_on, quantity=quantity, today=today)
    if evidence_file is not None:
        _evidence_attach(contribution, evidence_file)
    contribution.activity_type = activity_type
    contribution.program_year = activity_type.program_year
    contribution.title = title
    contribution.description = description
    contribution.occurred_on = occurred_on
    contribution.quantity = quantity
    contribution.evidence_url = evidence_url
    contribution.claimed_points = points_for(activity_type=activity_type, quantity=quantity)
    _same_claim_check(contribution)
    _save(contribution, actor=member)
    return contribution


@_locked_write(BUSY_OWN, durable=True)
def contribution_edit(
    *,
    contribution: Contribution,
    member: User,
    activity_type: ActivityType,
    title: str,
    occurred_on: date,
    quantity: Decimal | int,
    description: str = "",
    evidence_url: str = "",
    evidence_file: UploadedFile | None = None,
    submit: bool = False,
    answer: str = "",
    today: date | None = None,
) -> Contribution:
    """The member's edit page in one transaction: change the item, then (with `submit`) send it on,
    answering the verifier's question when it needs more information.

    A refused submit rolls the edit back too, so the page that shows the refusal saved nothing.
    """
    contribution = contribution_update(
        contribution=contribution,
        member=member,
        activity_type=activity_type,
        title=title,
        occurred_on=occurred_on,
        quantity=quantity,
        description=description,
        evidence_url=evidence_url,
        evidence_file=evidence_file,
        today=today,
    )
    if submit and contribution.state == Contribution.State.NEEDS_INFO:
        return contribution_reply(contribution=contribution, member=member, body=answer, today=today)
    if submit:
        return contribution_submit(contribution=contribution, member=member, today=today)
    return contribution


def _lock_own(*, contribution_id: int, member: User) -> Contribution:
    contribution = (
        Contribution.objects.select_for_update(no_key=True, of=("self",))
        .select_related("activity_type", "program_year")
        .filter(pk=contribution_id, member=member)
        .first()
    )
    if contribution is None:
        raise Contribution.DoesNotExist
    return contribution


@_locked_write(BUSY_OWN)
def contribution_submit(*, contribution: Contribution, member: User, today: date | None = None) -> Contribution:
    """Send a draft (or an answered question) to the verifiers."""
    today = today or timezone.localdate()
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state not in EDITABLE_STATES:
        raise ContributionError(_("This contribution has already been submitted."))
    if contribution.state == Contribution.State.NEEDS_INFO and not question_answered(contribution=contribution):
        raise ContributionError(
            _("Answer the verifier's question first: write your answer in the box below the question.")
        )
    _submission_window_check(program_year=contribution.program_year, today=today)
    _evidence_check_for_submit(contribution)
    contribution.state = Contribution.State.SUBMITTED
    contribution.submitted_at = timezone.now()
    _save(contribution, actor=member)
    return contribution


def question_answered(*, contribution: Contribution) -> bool:
    """The thread's last message is the member's answer (a question with no answer after it is open)."""
    last = contribution.messages.order_by("-created_at", "-pk").first()
    return last is not None and last.kind == ContributionMessage.Kind.ANSWER


@_locked_write(BUSY_OWN)
def contribution_reply(
    *, contribution: Contribution, member: User, body: str, today: date | None = None
) -> Contribution:
    """The member answers the verifier's question; the answer joins the thread and the item goes back to them."""
    body = body.strip()
    if not body:
        raise ContributionError(_("Write your answer to the verifier's question before sending it."))
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state != Contribution.State.NEEDS_INFO:
        raise ContributionError(_("Only an item the verifier asked about can be answered."))
    message = ContributionMessage(
        contribution=contribution, author=member, kind=ContributionMessage.Kind.ANSWER, body=body
    )
    try:
        message.full_clean()
    except ValidationError as error:
        raise ContributionError(" ".join(error.messages)) from error
    message.save()
    return contribution_submit(contribution=contribution, member=member, today=today)


@_locked_write(BUSY_OWN, durable=True)
def contribution_draft_delete(*, contribution: Contribution, member: User) -> None:
    """A draft nobody else has seen is deleted outright (its history keeps a deletion record by the member)."""
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state != Contribution.State.DRAFT:
        raise ContributionError(_("Only a draft can be deleted; a submitted item can be withdrawn instead."))
    evidence = contribution.evidence_file.name if contribution.evidence_file else ""
    contribution._history_user = member
    contribution.delete()
    if evidence:
        storage = contribution.evidence_file.storage
        transaction.on_commit(lambda: storage.delete(evidence))


@_locked_write(BUSY_OWN, durable=True)
def contribution_withdraw(*, contribution: Contribution, member: User) -> Contribution:
    """The member takes back an item before a verifier decided on it."""
    contribution = _lock_own(contribution_id=contribution.pk, member=member)
    if contribution.state not in WITHDRAWABLE_STATES:
        raise ContributionError(_("A decided contribution cannot be withdrawn."))
    contribution.state = Contribution.State.WITHDRAWN
    _save(contribution, actor=member)
    return contribution
