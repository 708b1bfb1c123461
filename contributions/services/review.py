"""The year-end review: every member's outcome, next year's certificates, the outcome notifications."""

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import Notification, User
from accounts.services import notification_create
from contributions import rules
from contributions.errors import ContributionError
from contributions.models import (
    Certificate,
    ProgramYear,
    ReviewOutcome,
    ReviewRun,
)
from contributions.services.certificates import renewal_certificate


@dataclass
class ReviewEntry:
    member: User
    target: int
    verified: int
    outcome: str
    reasons: list[str]
    certificate_number: str = ""
    pending: int = 0  # submitted, waiting for a verifier
    needs_info: int = 0  # waiting on the member's answer
    would_meet: bool = False  # lapsed, but recertified if the waiting points were verified (`rules.maintained`)
    points_would_cover: bool = False  # the waiting points would reach the target, yet a requirement is unmet

    @property
    def outcome_label(self) -> str:
        return str(ReviewOutcome.Outcome(self.outcome).label)

    @property
    def waiting(self) -> int:
        return self.pending + self.needs_info


@dataclass
class ReviewReport:
    program_year: ProgramYear
    dry_run: bool
    entries: list[ReviewEntry] = field(default_factory=list)
    created_outcomes: int = 0
    created_certificates: int = 0
    # What a final run would produce now (the confirmation page says so before anything is written).
    planned_outcomes: int = 0
    planned_certificates: int = 0
    planned_notifications: int = 0
    planned_emails: int = 0
    run: ReviewRun | None = None  # the final run, once it happened
    already_ran: bool = False  # a final run was asked for, but one had already run: nothing changed
    outcomes_to_record: list[ReviewOutcome] = field(default_factory=list, repr=False)
    certificates_to_issue: list[Certificate] = field(default_factory=list, repr=False)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ReviewOutcome.Outcome.values, 0)
        for entry in self.entries:
            counts[entry.outcome] += 1
        return counts

    @property
    def counts_in_words(self) -> list[tuple[str, int]]:
        return [(str(ReviewOutcome.Outcome(key).label), n) for key, n in self.counts.items()]

    @property
    def notifications_on(self) -> date | None:
        """The day outcome notifications go out (None: as soon as the final review runs)."""
        return self.program_year.notification_on

    def as_json(self) -> dict:
        return {
            "year": self.program_year.year,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "members": [
                {
                    "email": e.member.email,
                    "target": e.target,
                    "verified": e.verified,
                    "outcome": e.outcome,
                    "reasons": e.reasons,
                    "certificate": e.certificate_number,
                }
                for e in self.entries
            ],
        }


def _review_decision(standing) -> tuple[str, list[str]]:
    if standing.opt_out is not None:
        return ReviewOutcome.Outcome.OPTED_OUT, [
            _("Opted out on %(date)s.") % {"date": date_format(timezone.localdate(standing.opt_out.created_at))}
        ]
    if _maintained(standing, verified=standing.verified):
        return ReviewOutcome.Outcome.RECERTIFIED, [
            _("%(verified)s verified points of %(target)s and every technical requirement met.")
            % {"verified": standing.verified, "target": standing.target_points}
        ]
    reasons = []
    if standing.verified < standing.target_points:
        reasons.append(
            _("%(verified)s verified points of %(target)s (%(missing)s missing).")
            % {
                "verified": standing.verified,
                "target": standing.target_points,
                "missing": standing.target_points - standing.verified,
            }
        )
        if standing.pending:
            reasons.append(
                _(
                    "%(waiting)s points waiting (%(submitted)s submitted, %(needs_info)s needing more information)"
                    "%(cover)s."
                )
                % {
                    "waiting": standing.pending,
                    "submitted": standing.pending - standing.needs_info,
                    "needs_info": standing.needs_info,
                    "cover": _(" would cover it if verified")
                    if standing.verified + standing.pending >= standing.target_points
                    else "",
                }
            )
    for requirement in standing.requirements_pending:
        reasons.append(_("Technical requirement not met: %(name)s.") % {"name": requirement.requirement.name})
    return ReviewOutcome.Outcome.LAPSED, reasons


def _maintained(standing, *, verified: int) -> bool:
    """`rules.maintained` for a member's standing with `verified` points: the outcome asks it with the
    verified points, the "would meet the target if verified" hint with the waiting points added."""
    return rules.maintained(
        target=standing.target_points, verified=verified, requirements_met=not standing.requirements_pending
    )


def _review_dedupe_key(program_year: ProgramYear) -> str:
    return f"maintenance-{program_year.year}-review"


def year_end_review_refusal(*, program_year: ProgramYear, today: date, final: bool) -> str | None:
    """Why the year cannot be reviewed now (`final`: the final run, else the dry run), or None; the review
    page and the service ask the same. A year not opened yet has no review at all: every member would be
    "lapsed" with nothing to show. The final run waits for the end of submissions (deadline and grace)."""
    if not program_year.has_opened(today):
        return _(
            "The %(year)s year has not started yet: it opens on %(opens)s. Its year-end review comes after its "
            "deadline (%(deadline)s)."
        ) % {
            "year": program_year.year,
            "opens": date_format(program_year.opens_on),
            "deadline": date_format(program_year.deadline),
        }
    if final and program_year.takes_submissions(today):
        return _(
            "The %(year)s year is still open for submissions (deadline or grace period); review it afterwards."
        ) % {"year": program_year.year}
    return None


def year_end_review(
    *, program_year: ProgramYear, dry_run: bool = True, today: date | None = None, by: User | None = None
) -> ReviewReport:
    """Decide every member's outcome; the final run records it, issues next year's certificates
    and records the run (who, when, what it produced). Refused as `year_end_review_refusal` says.

    The dry run also says what a final run would produce (outcomes, certificates, notifications).
    The final run locks the program year's row: of two admins pressing at once, the second finds
    the run recorded and changes nothing. Outcomes and certificates are unique per member and year
    and inserted with ON CONFLICT DO NOTHING, so a run from the command after one from the admin
    changes nothing either. A member already reviewed keeps the recorded outcome.
    """
    today = today or timezone.localdate()
    refusal = year_end_review_refusal(program_year=program_year, today=today, final=not dry_run)
    if refusal is not None:
        raise ContributionError(refusal)
    if dry_run:
        return _review_compute(program_year=program_year, dry_run=True)
    with transaction.atomic():
        ProgramYear.objects.select_for_update(no_key=True).filter(pk=program_year.pk).first()
        run = ReviewRun.objects.filter(program_year=program_year).select_related("run_by").first()
        report = _review_compute(program_year=program_year, dry_run=False)
        if run is not None:
            report.run, report.already_ran = run, True
        else:
            report.created_outcomes = len(
                ReviewOutcome.objects.bulk_create(report.outcomes_to_record, ignore_conflicts=True)
            )
            issued = report.certificates_to_issue
            Certificate.objects.bulk_create(issued, ignore_conflicts=True)
            created = list(Certificate.objects.filter(verification_code__in=[c.verification_code for c in issued]))
            Certificate.history.bulk_history_create(created, default_user=by, default_change_reason="year-end review")
            report.created_certificates = len(created)
            run = ReviewRun(
                program_year=program_year,
                run_by=by,
                ran_at=timezone.now(),
                outcomes=report.created_outcomes,
                certificates=report.created_certificates,
                notifications=report.planned_notifications,
                counts=report.counts,
            )
            run.full_clean(validate_constraints=False)
            run.save()
            report.run = run
    review_notifications_send(program_year=program_year, today=today)
    return report


def _review_compute(*, program_year: ProgramYear, dry_run: bool) -> ReviewReport:
    """Every member's outcome (recorded or to record) and what a final run would write."""
    from contributions import selectors

    members = list(selectors.eligible_members(program_year=program_year))
    standings = selectors.member_years(program_year=program_year, members=members, today=program_year.deadline)
    next_year = program_year.year + 1
    program_years = {p.year: p for p in ProgramYear.objects.filter(year__in=[program_year.year, next_year])}
    existing_certificates = dict(
        Certificate.objects.filter(year=next_year, member__in=members).values_list("member_id", "number")
    )
    notified = set(
        Notification.objects.filter(dedupe_key=_review_dedupe_key(program_year), user__in=members).values_list(
            "user_id", flat=True
        )
    )
    report = ReviewReport(
        program_year=program_year,
        dry_run=dry_run,
        run=ReviewRun.objects.filter(program_year=program_year).select_related("run_by").first(),
    )
    return review_plan(
        report,
        standings=standings,
        program_years=program_years,
        existing_certificates=existing_certificates,
        notified=notified,
    )


def review_plan(
    report: ReviewReport,
    *,
    standings: list,
    program_years: dict[int, ProgramYear],
    existing_certificates: dict[int, str],
    notified: set[int],
) -> ReviewReport:
    """Fill `report` from the members' standings (pure: `_review_compute` loads what it reads).

    A member already reviewed keeps the recorded outcome; the others get `_review_decision`'s, to
    record. A recertified member without next year's certificate (`existing_certificates`, by member)
    gets one to issue; a member not yet told (`notified`) counts as a notification to send.
    """
    program_year, dry_run = report.program_year, report.dry_run
    outcomes, certificates = [], []
    for standing in standings:
        member = standing.member
        outcome = standing.outcome or _outcome_to_record(standing, program_year=program_year)
        if standing.outcome is None:
            outcomes.append(outcome)
        if member.pk not in notified:
            report.planned_notifications += 1
            report.planned_emails += member.is_active and member.wants_email("maintenance.review")
        number = existing_certificates.get(member.pk, "")
        if outcome.outcome == ReviewOutcome.Outcome.RECERTIFIED and not number:
            certificate = renewal_certificate(member=member, reviewed=program_year, program_years=program_years)
            number = certificate.number
            certificates.append(certificate)
        shown_number = number if not dry_run or standing.outcome is not None else ""
        report.entries.append(_review_entry(standing, outcome=outcome, certificate_number=shown_number))
    report.planned_outcomes, report.planned_certificates = len(outcomes), len(certificates)
    report.outcomes_to_record, report.certificates_to_issue = outcomes, certificates
    return report


def _outcome_to_record(standing, *, program_year: ProgramYear) -> ReviewOutcome:
    """The (unsaved) outcome `_review_decision` gives a member not yet reviewed."""
    outcome, reasons = _review_decision(standing)
    return ReviewOutcome(
        member=standing.member,
        program_year=program_year,
        outcome=outcome,
        target_points=standing.target_points,
        verified_points=standing.verified,
        reasons=reasons,
    )


def _review_entry(standing, *, outcome: ReviewOutcome, certificate_number: str) -> ReviewEntry:
    """One line of the review page: the outcome (recorded or to record) and what is still waiting: whether
    verifying it would change the outcome (`would_meet`), or would reach the target while a technical
    requirement still keeps the member from it (`points_would_cover`)."""
    lapsed = outcome.outcome == ReviewOutcome.Outcome.LAPSED
    with_waiting = standing.verified + standing.pending
    return ReviewEntry(
        member=standing.member,
        target=outcome.target_points,
        verified=outcome.verified_points,
        outcome=outcome.outcome,
        reasons=list(outcome.reasons),
        certificate_number=certificate_number,
        pending=standing.pending - standing.needs_info,
        needs_info=standing.needs_info,
        would_meet=lapsed and _maintained(standing, verified=with_waiting),
        points_would_cover=lapsed
        and standing.verified < standing.target_points <= with_waiting
        and bool(standing.requirements_pending),
    )


def review_notifications_send(*, program_year: ProgramYear, today: date | None = None) -> int:
    """Tell each reviewed member their outcome, on (or after) the year's notification date; once each."""
    today = today or timezone.localdate()
    if program_year.notification_on is not None and today < program_year.notification_on:
        return 0
    sent = 0
    outcomes = ReviewOutcome.objects.filter(program_year=program_year).select_related("member")
    certificates = dict(
        Certificate.objects.filter(program_year=program_year, year=program_year.year + 1)
        .exclude(state=Certificate.State.SUPERSEDED)
        .values_list("member_id", "verification_code")
    )
    for outcome in outcomes:
        if outcome.outcome == ReviewOutcome.Outcome.RECERTIFIED:
            title = _("You are recertified for %(year)s") % {"year": program_year.year + 1}
            code = certificates.get(outcome.member_id)
            url = reverse("certificate_verify", args=[code]) if code else reverse("dashboard")
        elif outcome.outcome == ReviewOutcome.Outcome.LAPSED:
            title = _("Your certification was not renewed for %(year)s") % {"year": program_year.year + 1}
            url = reverse("dashboard")
        else:
            title = _("Your %(year)s opt-out is recorded") % {"year": program_year.year}
            url = reverse("dashboard")
        created = notification_create(
            user=outcome.member,
            kind="maintenance.review",
            title=title,
            body="\n".join(outcome.reasons),
            url=url,
            dedupe_key=_review_dedupe_key(program_year),
        )
        sent += created is not None
    return sent
