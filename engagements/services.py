"""Every write of the engagements app: sign-ups, the waitlist and its offers, follow-up, suggestions.

Concurrency rule: every change of a sign-up's state happens inside a short transaction that
first locks its opportunity's row (`SELECT ... FOR NO KEY UPDATE`). That single lock serialises
sign-ups, withdrawals, offers and staff follow-up of one opportunity, so the count of sign-ups
holding a slot can never exceed the capacity, waitlist order is the order requests were served,
and a completion is recorded once even when two admin tabs press the button together. The
NO KEY variant does not block the FOR KEY SHARE lock that inserting a sign-up (a foreign key
to the opportunity) takes, so inserts of other transactions are never deadlocked by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.services import notification_create
from contributions.models import ActivityType, ProgramYear
from contributions.services import contribution_credit_automatic
from engagements import selectors
from engagements.models import Opportunity, SignUp, Suggestion
from mahome.errors import DomainError
from mahome.locks import locked_or_busy


class EngagementError(DomainError):
    """A rule of the programme refused the change (`field`: the form field it is about, if any)."""


# --- Rules shared by the pages and the services ----------------------------------------------


def signup_refusal(*, opportunity: Opportunity, now: datetime | None = None) -> str | None:
    """Why a member cannot sign up right now (None when the window is open).

    Capacity is not judged here: it is only decided under the row lock in `signup_create`.
    """
    now = now or timezone.now()
    if opportunity.state == Opportunity.State.CANCELLED:
        return _("This opportunity was cancelled, so it no longer takes sign-ups.")
    if opportunity.state == Opportunity.State.CLOSED:
        return _("Sign-ups for this opportunity are closed.")
    if opportunity.state != Opportunity.State.PUBLISHED:
        return _("This opportunity is not open for sign-ups yet.")
    if opportunity.signup_opens_at and now < opportunity.signup_opens_at:
        return _("Sign-ups open on %(date)s.") % {"date": _format(opportunity.signup_opens_at)}
    if opportunity.signup_closes_at and now >= opportunity.signup_closes_at:
        return _("Sign-ups closed on %(date)s.") % {"date": _format(opportunity.signup_closes_at)}
    if opportunity.starts_at and now >= opportunity.starts_at:
        return _("This opportunity has already taken place.")
    return None


def signup_engagement_date(*, signup: SignUp) -> datetime | None:
    """The engagement's moment: the scheduled date, else the start (None when ongoing).

    From then on, withdrawing is staff's call and the sign-up can be marked completed.
    """
    return signup.scheduled_for or signup.opportunity.starts_at


def withdraw_refusal(*, signup: SignUp, now: datetime | None = None) -> str | None:
    """Why the member cannot withdraw this sign-up themselves (None while live and before its date).

    The page shows the Withdraw button and `signup_withdraw` accepts exactly when this is None.
    """
    if not signup.is_live:
        return _("This sign-up is no longer active, so there is nothing to withdraw.")
    date = signup_engagement_date(signup=signup)
    if date and (now or timezone.now()) >= date:
        return _("The date of this engagement has passed; please contact the program team to change it.")
    return None


def _format(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%d %b %Y, %H:%M %Z")


def _notify(signup: SignUp, event: str, title: str, body: str = "", url: str = "") -> None:
    notification_create(
        user=signup.member,
        kind=f"engagement.{event}",
        title=title,
        body=body,
        url=url or signup.opportunity.get_absolute_url(),
    )


def _lock_opportunity(opportunity_id: int) -> Opportunity:
    return Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity_id)


def _save(instance, *, actor: User | None, **clean_kwargs) -> None:
    """Validate and save; the history records `actor` (None: the system, e.g. the beat job)."""
    instance.full_clean(validate_constraints=False, **clean_kwargs)
    instance._history_user = actor
    instance.save()


def _slots_held(opportunity: Opportunity) -> int:
    return SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.SLOT_STATES).count()


def _locked_signup(signup_id: int, *, member: User | None = None) -> SignUp:
    """Lock the sign-up's opportunity, then read the sign-up (its state cannot change under us)."""
    scope = SignUp.objects.all() if member is None else SignUp.objects.filter(member=member)
    opportunity_id = scope.values_list("opportunity_id", flat=True).get(pk=signup_id)
    opportunity = _lock_opportunity(opportunity_id)
    signup = SignUp.objects.select_related("member").get(pk=signup_id)
    signup.opportunity = opportunity
    return signup


# A member's request that waits LOCK_TIMEOUT for the opportunity's row lock answers this.
BUSY_SIGNUP = gettext_lazy("Someone else is changing this opportunity right now; please try again in a moment.")


# --- Sign-up ----------------------------------------------------------------------------------


@transaction.atomic
def signup_create(*, opportunity_id: int, member: User) -> tuple[SignUp, bool]:
    """Sign `member` up: a slot when one is free, else a place at the end of the waitlist.

    Returns (sign-up, created); a member who already has a live sign-up gets it back unchanged.
    Raises EngagementError when the window is closed, the opportunity is cancelled, or it is
    full and keeps no waitlist.

    The opportunity's row lock guards its capacity, so it is held for the least work: the checks
    that need no lock run before it (and the refusal again on the locked row, in Python), the
    notification after commit. Under the lock: count the held slots, insert the sign-up and its
    history row.
    """
    now = timezone.now()
    refusal = signup_refusal(opportunity=Opportunity.objects.get(pk=opportunity_id), now=now)
    if refusal:
        raise EngagementError(refusal)
    existing = SignUp.objects.filter(opportunity_id=opportunity_id, member=member, state__in=SignUp.LIVE_STATES).first()
    if existing is not None:
        return existing, False
    signup = SignUp(member=member, state=SignUp.State.CONFIRMED, confirmed_at=now)
    signup.full_clean(exclude=["opportunity", "member"], validate_constraints=False)
    signup._history_user = member
    try:
        with transaction.atomic():
            opportunity = _lock_opportunity(opportunity_id)
            refusal = signup_refusal(opportunity=opportunity, now=now)
            if refusal:
                raise EngagementError(refusal)
            if opportunity.capacity is not None and _slots_held(opportunity) >= opportunity.capacity:
                if not opportunity.waitlist_enabled:
                    raise EngagementError(_("All slots are taken and this opportunity keeps no waitlist."))
                signup.state, signup.confirmed_at = SignUp.State.WAITLISTED, None
            signup.opportunity = opportunity
            signup.save()
    except IntegrityError:
        # Only the one-live-sign-up constraint can fire here: the same member's double submit,
        # both past the check above; the second finds the first's sign-up.
        existing = SignUp.objects.filter(
            opportunity_id=opportunity_id, member=member, state__in=SignUp.LIVE_STATES
        ).first()
        if existing is None:
            raise
        return existing, False
    if signup.state == SignUp.State.CONFIRMED:
        title = _("You have a slot: %(title)s") % {"title": opportunity.title}
        body = _("The program team will follow up with the next steps.")
        event = "confirmed"
    else:
        title = _("You are on the waitlist: %(title)s") % {"title": opportunity.title}
        body = _("All slots are taken. If one frees up, we offer it to the next in line and tell you.")
        event = "waitlisted"
    transaction.on_commit(lambda: _notify(signup, event, title, body), robust=True)
    return signup, True


def _offer_free_slots(opportunity: Opportunity, now: datetime, *, actor: User | None) -> list[SignUp]:
    """Offer every free slot to the first in line. The caller holds the opportunity's lock.

    `actor` is whoever freed the slot (history says who set the offer in motion).
    """
    if opportunity.state not in (Opportunity.State.PUBLISHED, Opportunity.State.CLOSED):
        return []
    if opportunity.starts_at and opportunity.starts_at <= now:
        return []
    waiting = SignUp.objects.filter(opportunity=opportunity, state=SignUp.State.WAITLISTED).select_related("member")
    if opportunity.capacity is not None:
        free = opportunity.capacity - _slots_held(opportunity)
        if free <= 0:
            return []
        waiting = waiting.order_by("pk")[:free]
    else:
        waiting = waiting.order_by("pk")
    offered = []
    expires = now + timedelta(hours=opportunity.offer_hours)
    for signup in waiting:
        signup.opportunity = opportunity
        signup.state = SignUp.State.OFFERED
        signup.offered_at = now
        signup.offer_expires_at = expires
        _save(signup, actor=actor, exclude=["opportunity", "member"])
        _notify(
            signup,
            "offered",
            _("A slot is yours if you want it: %(title)s") % {"title": opportunity.title},
            _("A slot freed up and you are next in line. Accept it before %(date)s or it passes to the next member.")
            % {"date": _format(expires)},
        )
        offered.append(signup)
    return offered


def _end(signup: SignUp, state: str, reason: str, now: datetime, *, actor: User | None) -> None:
    signup.state = state
    signup.end_reason = reason
    signup.ended_at = now
    signup.offer_expires_at = None
    _save(signup, actor=actor, exclude=["opportunity", "member"])


def signup_withdraw(*, signup_id: int, member: User) -> SignUp:
    """The member gives up their sign-up before the date; a slot it held goes to the next in line."""
    with locked_or_busy(busy=BUSY_SIGNUP, error_class=EngagementError, durable=True, timeout=LOCK_TIMEOUT):
        signup = _locked_signup(signup_id, member=member)
        now = timezone.now()
        refusal = withdraw_refusal(signup=signup, now=now)
        if refusal is not None:
            raise EngagementError(refusal)
        _end(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.MEMBER, now, actor=member)
        _offer_free_slots(signup.opportunity, now, actor=member)
        return signup


def _required_reason(reason: str, refusal: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise EngagementError(refusal, field="reason")
    return reason


@transaction.atomic
def signup_withdraw_by_staff(*, signup_id: int, actor: User | None, reason: str) -> SignUp:
    """Staff end a live sign-up at any time (after the date, withdrawing is theirs to do).

    The reason is stored on the sign-up and sent to the member (message and email); a slot the
    sign-up held is offered to the next in line, as when a member withdraws.
    """
    reason = _required_reason(reason, _("Give the member a reason: it is required to withdraw a sign-up."))
    signup = _locked_signup(signup_id)
    now = timezone.now()
    if not signup.is_live:
        raise EngagementError(_("Only an active sign-up can be withdrawn."))
    signup.end_note = reason
    _end(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.STAFF, now, actor=actor)
    _notify(
        signup,
        "withdrawn",
        _("Your sign-up was withdrawn: %(t)s") % {"t": signup.opportunity.title},
        _("The program team withdrew your sign-up. Their reason: %(reason)s") % {"reason": reason},
    )
    _offer_free_slots(signup.opportunity, now, actor=actor)
    return signup


def signup_offer_accept(*, signup_id: int, member: User) -> SignUp:
    """Take the offered slot. An offer past its expiry is passed on instead (check the returned state)."""
    with locked_or_busy(busy=BUSY_SIGNUP, error_class=EngagementError, durable=True, timeout=LOCK_TIMEOUT):
        signup = _locked_signup(signup_id, member=member)
        now = timezone.now()
        if signup.state != SignUp.State.OFFERED:
            raise EngagementError(_("There is no open offer on this sign-up."))
        if signup.offer_expires_at <= now:
            _expire_offer(signup, now, actor=member)
            _offer_free_slots(signup.opportunity, now, actor=member)
            return signup
        signup.state = SignUp.State.CONFIRMED
        signup.confirmed_at = now
        signup.offer_expires_at = None
        _save(signup, actor=member, exclude=["opportunity", "member"])
        _notify(
            signup,
            "confirmed",
            _("You have a slot: %(title)s") % {"title": signup.opportunity.title},
            _("You accepted the offer. The program team will follow up with the next steps."),
        )
        return signup


def signup_offer_decline(*, signup_id: int, member: User) -> SignUp:
    """Turn the offer down; the slot is offered to the next in line."""
    with locked_or_busy(busy=BUSY_SIGNUP, error_class=EngagementError, durable=True, timeout=LOCK_TIMEOUT):
        signup = _locked_signup(signup_id, member=member)
        now = timezone.now()
        if signup.state != SignUp.State.OFFERED:
            raise EngagementError(_("There is no open offer on this sign-up."))
        _end(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.OFFER_DECLINED, now, actor=member)
        _offer_free_slots(signup.opportunity, now, actor=member)
        return signup


def _expire_offer(signup: SignUp, now: datetime, *, actor: User | None) -> None:
    _end(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.OFFER_EXPIRED, now, actor=actor)
    _notify(
        signup,
        "offer_expired",
        _("Your offer expired: %(title)s") % {"title": signup.opportunity.title},
        _("The slot was held for you but not accepted in time, so it passed to the next member."),
    )


def offers_expire(*, now: datetime | None = None) -> int:
    """Pass every expired offer to the next in line (the beat job). Returns how many expired.

    One short transaction per opportunity, so a long run never holds many locks.
    """
    now = now or timezone.now()
    opportunity_ids = (
        SignUp.objects.filter(state=SignUp.State.OFFERED, offer_expires_at__lte=now)
        .values_list("opportunity_id", flat=True)
        .distinct()
    )
    expired = 0
    for opportunity_id in list(opportunity_ids):
        with transaction.atomic():
            opportunity = _lock_opportunity(opportunity_id)
            due = SignUp.objects.filter(
                opportunity=opportunity, state=SignUp.State.OFFERED, offer_expires_at__lte=now
            ).select_related("member")
            for signup in due:
                signup.opportunity = opportunity
                _expire_offer(signup, now, actor=None)
                expired += 1
            _offer_free_slots(opportunity, now, actor=None)
    return expired


# --- Staff follow-up ---------------------------------------------------------------------------


@transaction.atomic
def signup_schedule(*, signup_id: int, actor: User | None, next_steps: str, scheduled_for: datetime) -> SignUp:
    """Staff agreed the next steps and a date with the member."""
    signup = _locked_signup(signup_id)
    if signup.state not in (SignUp.State.CONFIRMED, SignUp.State.SCHEDULED):
        raise EngagementError(_("Only a confirmed or scheduled sign-up can be scheduled."))
    signup.state = SignUp.State.SCHEDULED
    signup.next_steps = next_steps
    signup.scheduled_for = scheduled_for
    _save(signup, actor=actor, exclude=["opportunity", "member"])
    _notify(
        signup,
        "scheduled",
        _("Scheduled for %(date)s: %(title)s") % {"date": _format(scheduled_for), "title": signup.opportunity.title},
        next_steps,
        reverse("engagements:signup_list"),
    )
    return signup


@transaction.atomic
def signup_complete(*, signup_id: int, actor: User) -> tuple[SignUp, bool]:
    """Mark the engagement done and credit its points as a verified contribution, exactly once.

    Returns (sign-up, changed). A second call (a second admin tab, a double click) waits for
    the first one's lock, then finds the sign-up completed and changes nothing; the credit's
    `source_key` is unique as well, so even a direct second credit could not double the points.
    """
    signup = _locked_signup(signup_id)
    if signup.state == SignUp.State.COMPLETED:
        return signup, False
    if signup.state not in (SignUp.State.CONFIRMED, SignUp.State.SCHEDULED):
        raise EngagementError(_("Only a confirmed or scheduled sign-up can be completed."))
    now = timezone.now()
    engagement_date = signup_engagement_date(signup=signup)
    if engagement_date and now < engagement_date:
        raise EngagementError(
            _("This engagement is on %(date)s; it can be marked completed from then on.")
            % {"date": _format(engagement_date)}
        )
    opportunity = Opportunity.objects.select_related("activity_type__program_year").get(pk=signup.opportunity_id)
    moment = engagement_date or now
    signup.state = SignUp.State.COMPLETED
    signup.completed_at = now
    _save(signup, actor=actor, exclude=["opportunity", "member"])
    contribution_credit_automatic(
        member=signup.member,
        activity_type=selectors.credited_activity_type(opportunity=opportunity, on=timezone.localdate(moment)),
        occurred_on=timezone.localdate(moment),
        title=opportunity.title,
        source_key=f"signup:{signup.pk}",
        source="engagement",
        points=opportunity.credited_points,
        description=_("Completed engagement opportunity “%(title)s”.") % {"title": opportunity.title},
    )
    _notify(
        signup,
        "completed",
        _("%(points)s points credited: %(title)s")
        % {"points": opportunity.credited_points, "title": opportunity.title},
        _("Thank you for taking part. The points count toward your certification."),
        reverse("contributions:list"),
    )
    return signup, True


@transaction.atomic
def signup_mark_no_show(*, signup_id: int, actor: User) -> SignUp:
    """The member did not take part. Before the date, their slot is offered to the next in line."""
    signup = _locked_signup(signup_id)
    if signup.state not in (SignUp.State.CONFIRMED, SignUp.State.SCHEDULED, SignUp.State.OFFERED):
        raise EngagementError(_("Only a sign-up holding a slot can be marked as a no-show."))
    now = timezone.now()
    _end(signup, SignUp.State.NO_SHOW, "", now, actor=actor)
    _notify(signup, "no_show", _("Marked as not taking part: %(t)s") % {"t": signup.opportunity.title})
    _offer_free_slots(signup.opportunity, now, actor=actor)
    return signup


# --- Opportunity lifecycle --------------------------------------------------------------------


@transaction.atomic
def opportunity_set_state(*, opportunity_id: int, actor: User, state: str) -> Opportunity:
    """Publish, close or return to draft (cancelling has its own service: it notifies people)."""
    if state == Opportunity.State.CANCELLED:
        raise ValueError("Use opportunity_cancel.")
    opportunity = _lock_opportunity(opportunity_id)
    if opportunity.state == Opportunity.State.CANCELLED:
        raise EngagementError(_("A cancelled opportunity cannot be reopened; create a new one."))
    opportunity.state = state
    _save(opportunity, actor=actor)
    _offer_free_slots(opportunity, timezone.now(), actor=actor)
    return opportunity


@transaction.atomic
def opportunity_cancel(*, opportunity_id: int, actor: User | None, reason: str) -> int:
    """Cancel the opportunity and tell everyone with a live sign-up, with the reason. Returns how many were told."""
    reason = _required_reason(reason, _("Tell the members why: a reason is required to cancel an opportunity."))
    opportunity = _lock_opportunity(opportunity_id)
    if opportunity.state == Opportunity.State.CANCELLED:
        return 0
    now = timezone.now()
    opportunity.state = Opportunity.State.CANCELLED
    opportunity.cancellation_reason = reason
    _save(opportunity, actor=actor)
    live = SignUp.objects.filter(opportunity=opportunity, state__in=SignUp.LIVE_STATES).select_related("member")
    count = 0
    for signup in live:
        signup.opportunity = opportunity
        _end(signup, SignUp.State.CANCELLED, SignUp.EndReason.OPPORTUNITY_CANCELLED, now, actor=actor)
        _notify(
            signup,
            "cancelled",
            _("Cancelled: %(title)s") % {"title": opportunity.title},
            reason,
        )
        count += 1
    return count


@transaction.atomic
def opportunity_fill_free_slots(*, opportunity_id: int, actor: User | None = None) -> list[SignUp]:
    """Offer every free slot to the waitlist (opportunity_update does this when the capacity rises)."""
    opportunity = _lock_opportunity(opportunity_id)
    return _offer_free_slots(opportunity, timezone.now(), actor=actor)


def opportunity_capacity_problem(*, opportunity: Opportunity) -> str | None:
    """Why the capacity staff typed cannot be saved: it must leave room for the slots already held.

    Without the row lock this is advice for a form; `opportunity_update` asks it again under the lock.
    """
    if opportunity.pk is None or opportunity.capacity is None:
        return None
    held = _slots_held(opportunity)
    if opportunity.capacity < held:
        return _("%(held)s slots are already held; the capacity cannot go below that.") % {"held": held}
    return None


# The fields staff edit on an opportunity's page. State and the cancellation reason change only
# through opportunity_set_state / opportunity_cancel, which notify the people concerned.
OPPORTUNITY_EDITABLE_FIELDS = (
    "title",
    "slug",
    "category",
    "activity_type",
    "points",
    "summary",
    "description",
    "participation",
    "crediting",
    "starts_at",
    "ends_at",
    "location",
    "capacity",
    "signup_opens_at",
    "signup_closes_at",
    "waitlist_enabled",
    "offer_hours",
)
LOCK_TIMEOUT = "5s"


def _editable_changes(changes: Mapping[str, object]) -> dict[str, object]:
    unknown = set(changes) - set(OPPORTUNITY_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {sorted(unknown)}")
    return dict(changes)


def opportunity_deletion_refusal(*, opportunity: Opportunity) -> str | None:
    """Why this opportunity cannot be deleted: only a draft nobody signed up for may go."""
    if opportunity.state != Opportunity.State.DRAFT or SignUp.objects.filter(opportunity=opportunity).exists():
        return _("Members have seen or signed up for this opportunity; cancel it instead, with a reason.")
    return None


@transaction.atomic
def opportunity_delete(*, opportunity_id: int, actor: User | None) -> None:
    """Delete a draft nobody signed up for (a mistake); its history keeps the deletion and who."""
    opportunity = _lock_opportunity(opportunity_id)
    refusal = opportunity_deletion_refusal(opportunity=opportunity)
    if refusal:
        raise EngagementError(refusal)
    opportunity._history_user = actor
    opportunity.delete()


def opportunity_create(*, actor: User | None, fields: Mapping[str, object]) -> Opportunity:
    """A new opportunity, always a draft: publishing is a separate step (opportunity_set_state)."""
    with transaction.atomic():
        opportunity = Opportunity(**_editable_changes(fields), state=Opportunity.State.DRAFT)
        opportunity._history_user = actor
        opportunity.full_clean()
        opportunity.save()
    return opportunity


def opportunity_update(
    *, opportunity_id: int, actor: User | None, changes: Mapping[str, object]
) -> tuple[Opportunity, list[SignUp]]:
    """Change the opportunity's details; returns it and the sign-ups offered a slot it freed.

    The capacity rule (never below the slots held) is decided under the opportunity's row lock,
    the same lock every sign-up takes, so no sign-up can commit between the count and the save;
    only the changed columns are written, so a cancellation or state change committed meanwhile
    is kept. Raises EngagementError (field="capacity") when the capacity is too low, or with a
    "busy" message when the lock is not granted within LOCK_TIMEOUT.
    """
    changes = _editable_changes(changes)
    busy = _("Someone else is changing this opportunity right now; please try again in a moment.")
    # Not durable: the admin's save_model calls this inside its own transaction.
    with locked_or_busy(busy=busy, error_class=EngagementError, timeout=LOCK_TIMEOUT):
        opportunity = _lock_opportunity(opportunity_id)
        for name, value in changes.items():
            setattr(opportunity, name, value)
        if "capacity" in changes:
            problem = opportunity_capacity_problem(opportunity=opportunity)
            if problem:
                raise EngagementError(problem, field="capacity")
        if not changes:
            return opportunity, []
        opportunity._history_user = actor
        opportunity.full_clean()
        opportunity.save(update_fields=[*changes, "updated_at"])
        offered = _offer_free_slots(opportunity, timezone.now(), actor=actor) if "capacity" in changes else []
    return opportunity, offered


# --- Suggestions --------------------------------------------------------------------------------


@transaction.atomic
def suggestion_create(
    *, member: User, title: str, description: str, proposed_category: str, why_it_matters: str
) -> Suggestion:
    suggestion = Suggestion(
        member=member,
        title=title,
        description=description,
        proposed_category=proposed_category,
        why_it_matters=why_it_matters,
    )
    _save(suggestion, actor=member, exclude=["member"])
    return suggestion


def _lock_pending_suggestion(suggestion_id: int) -> Suggestion:
    suggestion = Suggestion.objects.select_for_update(of=("self",)).select_related("member").get(pk=suggestion_id)
    if suggestion.state != Suggestion.State.PENDING:
        raise EngagementError(_("“%(t)s” was already decided.") % {"t": suggestion.title})
    return suggestion


def _decide(suggestion: Suggestion, *, actor: User, state: str, reason: str, points: int | None) -> None:
    suggestion.state = state
    suggestion.decided_by = actor
    suggestion.decided_at = timezone.now()
    suggestion.decision_reason = reason
    suggestion.points = points
    _save(suggestion, actor=actor, exclude=["member", "decided_by"])
    title = (
        _("Your suggestion was accepted: %(t)s") if state == Suggestion.State.ACCEPTED else _("Decision on: %(t)s")
    ) % {"t": suggestion.title}
    notification_create(
        user=suggestion.member,
        kind="engagement.suggestion_decided",
        title=title,
        body=reason,
        url=reverse("engagements:suggestion_list"),
    )


@transaction.atomic
def suggestion_accept_as_activity_type(
    *,
    suggestion_id: int,
    actor: User,
    program_year: ProgramYear,
    code: str,
    points: int,
    category: str,
    tracking: str = ActivityType.Tracking.MANUAL,
    note: str = "",
) -> ActivityType:
    """Accept the suggestion by adding it to a year's activity catalogue with the points staff decide.

    The one write engagements makes into contributions' catalogue, validated like any other.
    """
    suggestion = _lock_pending_suggestion(suggestion_id)
    activity_type = ActivityType(
        program_year=program_year,
        code=code,
        name=suggestion.title,
        category=category,
        description=suggestion.description,
        points=points,
        tracking=tracking,
        evidence_required=tracking == ActivityType.Tracking.MANUAL,
    )
    activity_type._history_user = actor
    activity_type.full_clean()
    activity_type.save()
    suggestion.created_activity_type = activity_type
    reason = note or _("Added to the %(year)s activity catalogue at %(points)s points.") % {
        "year": program_year.year,
        "points": points,
    }
    _decide(suggestion, actor=actor, state=Suggestion.State.ACCEPTED, reason=reason, points=points)
    return activity_type


@transaction.atomic
def suggestion_accept_as_opportunity(
    *, suggestion_id: int, actor: User, activity_type: ActivityType, points: int, slug: str, note: str = ""
) -> Opportunity:
    """Accept the suggestion as a draft opportunity (staff complete and publish it in the admin)."""
    suggestion = _lock_pending_suggestion(suggestion_id)
    opportunity = Opportunity(
        title=suggestion.title,
        slug=slug,
        category=Opportunity.Category.OTHER,
        activity_type=activity_type,
        points=points,
        summary=suggestion.description[:300],
        description=suggestion.description,
        participation=suggestion.why_it_matters,
        crediting=_("Completing it credits %(points)s points as “%(type)s”.")
        % {"points": points, "type": activity_type.name},
        state=Opportunity.State.DRAFT,
    )
    _save(opportunity, actor=actor)
    suggestion.created_opportunity = opportunity
    reason = note or _("It will become an engagement opportunity worth %(points)s points.") % {"points": points}
    _decide(suggestion, actor=actor, state=Suggestion.State.ACCEPTED, reason=reason, points=points)
    return opportunity


@transaction.atomic
def suggestion_decline(*, suggestion_id: int, actor: User, reason: str) -> Suggestion:
    if not reason.strip():
        raise EngagementError(_("Tell the member why: a reason is required to decline."))
    suggestion = _lock_pending_suggestion(suggestion_id)
    _decide(suggestion, actor=actor, state=Suggestion.State.DECLINED, reason=reason.strip(), points=None)
    return suggestion
