"""A member's sign-up and its life: signing up, withdrawing, offers, staff follow-up, completion."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contributions.models import Contribution
from contributions.services import contribution_credit_automatic
from engagements import selectors
from engagements.models import Opportunity, SignUp, Slot
from engagements.services import common
from engagements.services.common import (
    BUSY_SIGNUP,
    EngagementError,
    end_signup,
    format_moment,
    lock_opportunity,
    locked_signup,
    notify_member,
    required_reason,
    save_with_actor,
    slots_held,
)
from engagements.services.rules import signup_engagement_date, signup_refusal, withdraw_refusal
from engagements.services.waitlist import expire_offer, offer_free_slots
from mahome.errors import violated_constraint
from mahome.history import insert_with_history
from mahome.locks import locked_or_busy

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from engagements.selectors import MemberHasLive


def signup_create(
    *, opportunity_id: int, member: User, seen: WithAnnotations[Opportunity, MemberHasLive] | None = None
) -> tuple[SignUp, bool]:
    """Sign `member` up: a slot when one is free, else a place at the end of the waitlist.

    Returns (sign-up, created); a member who already has a live sign-up gets it back unchanged.
    Raises EngagementError when the window is closed, the opportunity is cancelled, or it is
    full and keeps no waitlist.

    In PostgreSQL a sign-up takes one of the opportunity's slot rows (`Slot`), not the opportunity's row
    lock: sign-ups for the same opportunity take different slots and do not wait for one another's commit.
    The checks that need nothing locked run before, outside any transaction; the notification after commit.
    - A slot was free when read: the sign-up is inserted as confirmed and the database gives it a free
      slot (or refuses: none left). The opportunity is then read again, with a snapshot taken once the
      slot is held: a change staff committed meanwhile (a cancellation, a closed window) held every slot
      while it ran (`common.lock_opportunity`), so this read sees it, and the sign-up is refused.
    - None was free (or the opportunity is unlimited): a share lock on the opportunity's row, taken by
      every such sign-up at once, waits only for staff's changes and the waitlist's offers, which free
      slots; read after it, a free slot is taken as above, else the sign-up joins the waitlist.
    - Every slot went meanwhile: the same again the second way.

    `seen`: the opportunity as `selectors.opportunities_to_sign_up` reads it for `member`, when the caller
    read it already (the view, which finds it by its slug): the checks before writing then read nothing.
    """
    now = timezone.now()
    # One read for both checks before writing: the opportunity, and whether the member already holds a
    # live sign-up for it (read in full only then, which is rare).
    if seen is None:
        seen = selectors.opportunities_to_sign_up(member=member).get(pk=opportunity_id)
    elif seen.pk != opportunity_id or not hasattr(seen, "has_free_slot"):
        raise ValueError("seen: the opportunity as selectors.opportunities_to_sign_up reads it")
    refusal = signup_refusal(opportunity=seen, now=now)
    if refusal:
        raise EngagementError(refusal)
    if seen.member_has_live:
        existing = _live_signup(opportunity_id, member)
        if existing is not None:
            return existing, False
    signup = SignUp(member=member, state=SignUp.State.CONFIRMED, confirmed_at=now)
    signup.full_clean(exclude=["opportunity", "member"], validate_constraints=False)
    signup._history_user = member
    take_slot = seen.has_free_slot
    for _attempt in range(SIGN_UP_ATTEMPTS):
        signup.pk, signup._state.adding = None, True
        signup.state, signup.confirmed_at = SignUp.State.CONFIRMED, now
        try:
            with transaction.atomic():  # a savepoint only when a caller already holds a transaction
                opportunity = _place(signup, opportunity_id, now, take_slot=take_slot)
        except IntegrityError as error:
            if _no_free_slot(error):
                take_slot = False  # every free slot went meanwhile: the second way
                continue
            # Else only the one-live-sign-up constraint can fire here: the same member's double submit,
            # both past the check above; the second finds the first's sign-up.
            existing = _live_signup(opportunity_id, member)
            if existing is None:
                raise
            return existing, False
        break
    else:
        raise EngagementError(str(BUSY_SIGNUP))
    event, title, body = signup_notice(state=signup.state, title=opportunity.title)
    # Committed already (or, inside a caller's transaction, at its commit).
    transaction.on_commit(lambda: notify_member(signup, event, title, body), robust=True)
    return signup, True


# A sign-up that lost the last free slot to another tries again; it then either finds the waitlist or a slot
# freed meanwhile, so more than a second try is rare (staff changing the capacity while members sign up).
SIGN_UP_ATTEMPTS = 5


def _place(signup: SignUp, opportunity_id: int, now: datetime, *, take_slot: bool) -> Opportunity:
    """Write the sign-up, confirmed or waitlisted (see `signup_create`); returns the opportunity as read."""
    if connection.vendor != "postgresql":  # SQLite (the laptop's run): one writer at a time, slots counted
        opportunity = lock_opportunity(opportunity_id)
        _refuse(opportunity, now)
        full = opportunity.capacity is not None and slots_held(opportunity) >= opportunity.capacity
    elif take_slot:
        signup.opportunity_id = opportunity_id
        insert_with_history(signup)  # the sign-up and its history row in one statement; the slot by the trigger
        opportunity = _read_to_sign_up(opportunity_id, share=False)[0]
        _refuse(opportunity, now)
        signup.opportunity = opportunity
        return opportunity
    else:
        # Read under the share lock, which staff's changes wait for: no re-read is needed after the insert.
        opportunity, free = _read_to_sign_up(opportunity_id, share=True)
        _refuse(opportunity, now)
        full = opportunity.capacity is not None and not free
    if full:
        if not opportunity.waitlist_enabled:
            raise EngagementError(_("All slots are taken and this opportunity keeps no waitlist."))
        signup.state, signup.confirmed_at = SignUp.State.WAITLISTED, None
    signup.opportunity = opportunity
    insert_with_history(signup)  # confirmed in a limited opportunity: the trigger gives it a slot, or refuses
    return opportunity


def _refuse(opportunity: Opportunity, now: datetime) -> None:
    refusal = signup_refusal(opportunity=opportunity, now=now)
    if refusal:
        raise EngagementError(refusal)


def _no_free_slot(error: IntegrityError) -> bool:
    """The database refused a slot-holding sign-up: no slot was left (migration 0005's trigger)."""
    return violated_constraint(error) == "signup_needs_free_slot"


# The reads as SQL written once (the ORM compiles a query on every call: ~2.5 ms of Python on the bench's
# machine, ~0.7 ms to run them). The fields a sign-up needs (the window, capacity, waitlist, and the title
# and slug of the member's notice), and whether a slot is free. With the share lock: ONE round trip of two
# statements, the second with a snapshot of its own taken once the lock is held (READ COMMITTED: each
# statement of a query string takes its own), so it sees what the lock's holder committed.
_READ_FIELDS = {
    *("id", "title", "slug", "state", "capacity", "waitlist_enabled"),
    *("signup_opens_at", "signup_closes_at", "starts_at"),
}


def _read_fields() -> list:
    """The fields read in the model's order (what `Model.from_db` expects)."""
    return [f for f in Opportunity._meta.concrete_fields if f.name in _READ_FIELDS]


@lru_cache(maxsize=2)
def _read_sql(share: bool) -> str:
    quote = connection.ops.quote_name
    table = quote(Opportunity._meta.db_table)
    columns = ", ".join(f"o.{quote(field.column)}" for field in _read_fields())
    free = (
        f"EXISTS (SELECT 1 FROM {quote(Slot._meta.db_table)} s "  # noqa: S608 - our names
        f"WHERE s.{quote('opportunity_id')} = o.{quote('id')} AND NOT s.{quote('taken')})"
    )
    read = f"SELECT {columns}, {free} FROM {table} o WHERE o.{quote('id')} = %s"  # noqa: S608 - our names
    if not share:
        return read
    return f"SELECT 1 FROM {table} WHERE {quote('id')} = %s FOR SHARE; {read}"  # noqa: S608 - our names


def _read_to_sign_up(opportunity_id: int, *, share: bool) -> tuple[Opportunity, bool]:
    """The opportunity (after a share lock on its row, when `share`) and whether a slot of it is free."""
    with connection.cursor() as cursor:
        cursor.execute(_read_sql(share), [opportunity_id, opportunity_id] if share else [opportunity_id])
        row = cursor.fetchone()  # the last statement's row
    if row is None:
        raise Opportunity.DoesNotExist
    opportunity = Opportunity.from_db(connection.alias, [field.attname for field in _read_fields()], row[:-1])
    return opportunity, row[-1]


def _live_signup(opportunity_id: int, member: User) -> SignUp | None:
    return SignUp.objects.filter(opportunity_id=opportunity_id, member=member, state__in=SignUp.LIVE_STATES).first()


def signup_notice(*, state: str, title: str) -> tuple[str, str, str]:
    """What a new sign-up tells the member: (event, title, body) for a slot or a place on the waitlist."""
    if state == SignUp.State.CONFIRMED:
        return (
            "confirmed",
            _("You have a slot: %(title)s") % {"title": title},
            _("The program team will follow up with the next steps."),
        )
    return (
        "waitlisted",
        _("You are on the waitlist: %(title)s") % {"title": title},
        _("All slots are taken. If one frees up, we offer it to the next in line and tell you."),
    )


def signup_withdraw(*, signup_id: int, member: User) -> SignUp:
    """The member gives up their sign-up before the date; a slot it held goes to the next in line."""
    with locked_or_busy(busy=BUSY_SIGNUP, error_class=EngagementError, durable=True, timeout=common.LOCK_TIMEOUT):
        signup = locked_signup(signup_id, member=member)
        now = timezone.now()
        refusal = withdraw_refusal(signup=signup, now=now)
        if refusal is not None:
            raise EngagementError(refusal)
        end_signup(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.MEMBER, now, actor=member)
        offer_free_slots(signup.opportunity, now, actor=member)
        return signup


@transaction.atomic
def signup_withdraw_by_staff(*, signup_id: int, actor: User | None, reason: str) -> SignUp:
    """Staff end a live sign-up at any time (after the date, withdrawing is theirs to do).

    The reason is stored on the sign-up and sent to the member (message and email); a slot the
    sign-up held is offered to the next in line, as when a member withdraws.
    """
    reason = required_reason(reason, _("Give the member a reason: it is required to withdraw a sign-up."))
    signup = locked_signup(signup_id)
    now = timezone.now()
    if not signup.is_live:
        raise EngagementError(_("Only an active sign-up can be withdrawn."))
    signup.end_note = reason
    end_signup(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.STAFF, now, actor=actor)
    notify_member(
        signup,
        "withdrawn",
        _("Your sign-up was withdrawn: %(t)s") % {"t": signup.opportunity.title},
        _("The program team withdrew your sign-up. Their reason: %(reason)s") % {"reason": reason},
    )
    offer_free_slots(signup.opportunity, now, actor=actor)
    return signup


def signup_offer_accept(*, signup_id: int, member: User) -> SignUp:
    """Take the offered slot. An offer past its expiry is passed on instead (check the returned state)."""
    with locked_or_busy(busy=BUSY_SIGNUP, error_class=EngagementError, durable=True, timeout=common.LOCK_TIMEOUT):
        signup = locked_signup(signup_id, member=member)
        now = timezone.now()
        if signup.state != SignUp.State.OFFERED:
            raise EngagementError(_("There is no open offer on this sign-up."))
        expires_at = signup.offer_expires_at  # set on every offer (constraint signup_offer_has_expiry)
        if expires_at is None or expires_at <= now:
            expire_offer(signup, now, actor=member)
            offer_free_slots(signup.opportunity, now, actor=member)
            return signup
        signup.state = SignUp.State.CONFIRMED
        signup.confirmed_at = now
        signup.offer_expires_at = None
        save_with_actor(signup, actor=member, exclude=["opportunity", "member"])
        notify_member(
            signup,
            "confirmed",
            _("You have a slot: %(title)s") % {"title": signup.opportunity.title},
            _("You accepted the offer. The program team will follow up with the next steps."),
        )
        return signup


def signup_offer_decline(*, signup_id: int, member: User) -> SignUp:
    """Turn the offer down; the slot is offered to the next in line."""
    with locked_or_busy(busy=BUSY_SIGNUP, error_class=EngagementError, durable=True, timeout=common.LOCK_TIMEOUT):
        signup = locked_signup(signup_id, member=member)
        now = timezone.now()
        if signup.state != SignUp.State.OFFERED:
            raise EngagementError(_("There is no open offer on this sign-up."))
        end_signup(signup, SignUp.State.WITHDRAWN, SignUp.EndReason.OFFER_DECLINED, now, actor=member)
        offer_free_slots(signup.opportunity, now, actor=member)
        return signup


# --- Staff follow-up ---------------------------------------------------------------------------


@transaction.atomic
def signup_schedule(*, signup_id: int, actor: User | None, next_steps: str, scheduled_for: datetime) -> SignUp:
    """Staff agreed the next steps and a date with the member."""
    signup = locked_signup(signup_id)
    if signup.state not in (SignUp.State.CONFIRMED, SignUp.State.SCHEDULED):
        raise EngagementError(_("Only a confirmed or scheduled sign-up can be scheduled."))
    signup.state = SignUp.State.SCHEDULED
    signup.next_steps = next_steps
    signup.scheduled_for = scheduled_for
    save_with_actor(signup, actor=actor, exclude=["opportunity", "member"])
    notify_member(
        signup,
        "scheduled",
        _("Scheduled for %(date)s: %(title)s")
        % {"date": format_moment(scheduled_for), "title": signup.opportunity.title},
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
    signup = locked_signup(signup_id)
    if signup.state == SignUp.State.COMPLETED:
        return signup, False
    if signup.state not in (SignUp.State.CONFIRMED, SignUp.State.SCHEDULED):
        raise EngagementError(_("Only a confirmed or scheduled sign-up can be completed."))
    now = timezone.now()
    engagement_date = signup_engagement_date(signup=signup)
    if engagement_date and now < engagement_date:
        raise EngagementError(
            _("This engagement is on %(date)s; it can be marked completed from then on.")
            % {"date": format_moment(engagement_date)}
        )
    opportunity = Opportunity.objects.select_related("activity_type__program_year").get(pk=signup.opportunity_id)
    moment = engagement_date or now
    signup.state = SignUp.State.COMPLETED
    signup.completed_at = now
    save_with_actor(signup, actor=actor, exclude=["opportunity", "member"])
    contribution_credit_automatic(
        member=signup.member,
        activity_type=selectors.credited_activity_type(opportunity=opportunity, on=timezone.localdate(moment)),
        occurred_on=timezone.localdate(moment),
        title=opportunity.title,
        source_key=f"signup:{signup.pk}",
        source=Contribution.Source.ENGAGEMENT,
        points=opportunity.credited_points,
        description=_("Completed engagement opportunity “%(title)s”.") % {"title": opportunity.title},
    )
    notify_member(
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
    signup = locked_signup(signup_id)
    if signup.state not in (SignUp.State.CONFIRMED, SignUp.State.SCHEDULED, SignUp.State.OFFERED):
        raise EngagementError(_("Only a sign-up holding a slot can be marked as a no-show."))
    now = timezone.now()
    end_signup(signup, SignUp.State.NO_SHOW, "", now, actor=actor)
    notify_member(signup, "no_show", _("Marked as not taking part: %(t)s") % {"t": signup.opportunity.title})
    offer_free_slots(signup.opportunity, now, actor=actor)
    return signup
