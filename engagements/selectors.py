"""Every non-trivial read of the engagements app, with its joins and counts done in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, TypedDict

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from contributions.models import ActivityType, Contribution
from contributions.services import activity_type_for_date
from engagements.models import Opportunity, SignUp, Slot, Suggestion
from mahome.query_shape import QueryShape, query_shape

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class MemberHasLive(TypedDict):
    """What `opportunities_to_sign_up` adds: whether the member holds a live sign-up for it, and whether a
    slot of it was free when read (PostgreSQL; an unlimited opportunity has no slots)."""

    member_has_live: bool
    has_free_slot: bool


MEMBER_VISIBLE_STATES = (Opportunity.State.PUBLISHED, Opportunity.State.CLOSED, Opportunity.State.CANCELLED)


def _signup_count(states) -> Coalesce:
    """Sign-ups of the row's opportunity in `states`: a correlated subquery, so a page of 20 opportunities
    counts only their own sign-ups, not every sign-up. `COUNT(*)`, not of the id: the index on
    (opportunity, state) then answers it alone (an index-only scan); counting ids read each sign-up's
    row from the table, ~70 pages per opportunity of the benchmark."""
    counted = (
        SignUp.objects.filter(opportunity=OuterRef("pk"), state__in=states)
        .order_by()
        .values("opportunity")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _with_slots(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """Annotate `slots_held`, `slots_left` (None when unlimited) and `waitlist_length`."""
    return queryset.annotate(
        slots_held=_signup_count(SignUp.SLOT_STATES),
        waitlist_length=_signup_count([SignUp.State.WAITLISTED]),
    ).annotate(
        slots_left=Case(
            When(capacity__isnull=True, then=Value(None)),
            default=F("capacity") - F("slots_held"),
            output_field=IntegerField(),
        )
    )


def _member_state(member: User) -> Subquery:
    # At most one live sign-up per member and opportunity (a unique constraint): no order to choose by,
    # so none (the model's default order would join the opportunity again for every row).
    live = SignUp.objects.filter(opportunity=OuterRef("pk"), member=member, state__in=SignUp.LIVE_STATES)
    return Subquery(live.order_by().values("state")[:1])


def opportunity_list(*, member: User, now: datetime | None = None) -> QuerySet[Opportunity]:
    """Published opportunities for the browse page, with slots left and the member's own state
    (whether sign-ups are closed or not yet open judged at `now`, the request's time)."""
    queryset = Opportunity.objects.filter(state=Opportunity.State.PUBLISHED).select_related("activity_type")
    now = now or timezone.now()
    return (
        _with_slots(queryset)
        .annotate(
            member_state=_member_state(member),
            signups_closed=ExpressionWrapper(Q(signup_closes_at__lte=now), output_field=BooleanField()),
            signups_not_open=ExpressionWrapper(Q(signup_opens_at__gt=now), output_field=BooleanField()),
        )
        .order_by(F("starts_at").asc(nulls_last=True), "title", "pk")
    )


def opportunity_for_member(*, slug: str) -> Opportunity:
    """One opportunity a member may look at (drafts are staff's business: 404)."""
    queryset = Opportunity.objects.filter(state__in=MEMBER_VISIBLE_STATES).select_related("activity_type__program_year")
    return get_object_or_404(_with_slots(queryset), slug=slug)


# What a sign-up reads of the opportunity before it writes: the sign-up window (`rules.signup_refusal`) and
# the slug it redirects to, not the long texts.
SIGN_UP_CHECK_FIELDS = ("pk", "slug", "state", "signup_opens_at", "signup_closes_at", "starts_at")
# Their columns in the model's order: the rows `_to_sign_up_by_slug` reads and `opportunity_to_sign_up` loads.
_TO_SIGN_UP_NAMES = [
    f.attname for f in Opportunity._meta.concrete_fields if f.name in SIGN_UP_CHECK_FIELDS or f.primary_key
]


def opportunities_to_sign_up(*, member: User) -> QuerySet[WithAnnotations[Opportunity, MemberHasLive]]:
    """Opportunities as a sign-up checks them before it writes: the window's fields, and
    `member_has_live`, whether `member` already holds a live sign-up for it (at most one), and
    `has_free_slot`, whether one of its slots was free (see `Slot`)."""
    own_live = SignUp.objects.filter(opportunity=OuterRef("pk"), member=member, state__in=SignUp.LIVE_STATES)
    free = Slot.objects.filter(opportunity=OuterRef("pk"), taken=False)
    return Opportunity.objects.only(*SIGN_UP_CHECK_FIELDS).annotate(
        member_has_live=Exists(own_live), has_free_slot=Exists(free)
    )


def _to_sign_up_by_slug(*, slug: str, member: User) -> QuerySet:
    """`opportunity_to_sign_up`'s query, as rows: the check fields in the model's order, then member_has_live."""
    return (
        opportunities_to_sign_up(member=member)
        .filter(state__in=MEMBER_VISIBLE_STATES, slug=slug)
        .values_list(*_TO_SIGN_UP_NAMES, "member_has_live", "has_free_slot")
    )


# Two (member id, slug) pairs no request has (no user has a negative id, no slug a NUL): compiling with
# each and comparing says which parameters are the member's and the slug's, and that no other depends on them.
_STAND_INS = ((-(2**62) + 1, "\x00stand-in-1"), (-(2**62) + 2, "\x00stand-in-2"))


@lru_cache(maxsize=1)
def _to_sign_up_shape() -> QueryShape | None:
    """`_to_sign_up_by_slug` compiled once per process for stand-ins: where the member and the slug go."""
    if connection.vendor != "postgresql":
        return None
    return query_shape(
        lambda member_id, slug: _to_sign_up_by_slug(slug=slug, member=User(pk=member_id)).query.sql_with_params(),
        _STAND_INS,
    )


def opportunity_to_sign_up(*, slug: str, member: User) -> WithAnnotations[Opportunity, MemberHasLive]:
    """The opportunity a member's sign-up names, as `opportunity_for_member` finds it (drafts: 404), read as
    `services.signup_create` checks it before it writes (so it reads nothing more before it).

    The query is compiled once per process (building and compiling it cost ~1.5 ms of Python per sign-up on
    the bench's machine, running it ~0.2 ms); each request puts its member and slug in their places.
    """
    shape = _to_sign_up_shape()
    if shape is None:
        return get_object_or_404(
            opportunities_to_sign_up(member=member).filter(state__in=MEMBER_VISIBLE_STATES), slug=slug
        )
    with connection.cursor() as cursor:
        cursor.execute(shape.sql, shape.fill(member.pk, slug))
        row = cursor.fetchone()
    if row is None:
        raise Http404
    opportunity = Opportunity.from_db(connection.alias, _TO_SIGN_UP_NAMES, row[:-2])
    # The annotations, as the ORM sets them.
    opportunity.member_has_live, opportunity.has_free_slot = row[-2:]  # type: ignore[attr-defined]
    return opportunity  # type: ignore[return-value]


def _with_waitlist_position(queryset: QuerySet[SignUp]) -> QuerySet[SignUp]:
    """Annotate `waitlist_position`: 1 + waitlisted sign-ups of the same opportunity served earlier."""
    ahead = (
        SignUp.objects.filter(opportunity=OuterRef("opportunity"), state=SignUp.State.WAITLISTED, pk__lt=OuterRef("pk"))
        .order_by()
        .values("opportunity")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        waitlist_position=Case(
            When(
                state=SignUp.State.WAITLISTED,
                then=Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)) + 1,
            ),
            default=Value(None),
            output_field=IntegerField(),
        )
    )


def signup_current_for_member(*, opportunity: Opportunity, member: User) -> SignUp | None:
    """The member's live sign-up for the opportunity, else their most recent one (or None)."""
    queryset = _with_waitlist_position(SignUp.objects.filter(opportunity=opportunity, member=member))
    live_first = Case(When(state__in=SignUp.LIVE_STATES, then=Value(0)), default=Value(1))
    signup = queryset.order_by(live_first, "-pk").first()
    if signup is not None:
        signup.opportunity = opportunity
    return signup


def signup_for_member(*, signup_id: int, member: User) -> SignUp:
    """A sign-up of this member (404 for anyone else's)."""
    queryset = _with_waitlist_position(SignUp.objects.filter(member=member).select_related("opportunity", "member"))
    return get_object_or_404(queryset, pk=signup_id)


def signups_for_member(*, member: User) -> QuerySet[SignUp]:
    """All of the member's sign-ups, live ones first, newest first."""
    live_first = Case(When(state__in=SignUp.LIVE_STATES, then=Value(0)), default=Value(1))
    queryset = SignUp.objects.filter(member=member).select_related("opportunity")
    return _with_waitlist_position(queryset).order_by(live_first, "-pk")


def upcoming_for_member(*, user: User) -> list[SignUp]:
    """The member's sign-ups holding a slot (confirmed, offered, scheduled), soonest first.

    For the dashboard card `templates/engagements/_dashboard_card.html` (context: `upcoming`).
    """
    queryset = (
        SignUp.objects.filter(
            member=user, state__in=(SignUp.State.CONFIRMED, SignUp.State.OFFERED, SignUp.State.SCHEDULED)
        )
        .select_related("opportunity")
        .annotate(when=Coalesce("scheduled_for", "opportunity__starts_at"))
        .order_by(F("when").asc(nulls_last=True), "pk")
    )
    return list(queryset[:10])


def waitlist_positions(*, opportunity: Opportunity) -> list[tuple[int, int]]:
    """(sign-up id, position) of everyone waiting, in order: what staff and the tests look at."""
    ids = SignUp.objects.filter(opportunity=opportunity, state=SignUp.State.WAITLISTED).order_by("pk")
    return [(pk, position) for position, pk in enumerate(ids.values_list("pk", flat=True), start=1)]


def suggestions_for_member(*, member: User) -> QuerySet[Suggestion]:
    return Suggestion.objects.filter(member=member).select_related(
        "created_opportunity", "created_activity_type__program_year"
    )


# --- What completing credits ----------------------------------------------------------------------


def credited_activity_type(*, opportunity: Opportunity, on: date) -> ActivityType:
    """The activity type completing this opportunity credits for an engagement held `on` that day.

    A contribution counts toward the program year its date falls in, so it is the type of the
    same code in that year's catalogue when there is one (contributions' rule, asked, not copied).
    """
    return activity_type_for_date(activity_type=opportunity.activity_type, day=on)


@dataclass(frozen=True)
class MemberCredit:
    """What completing an opportunity credits, as the member reads it on the opportunity."""

    activity_type: ActivityType
    engagement_year: int  # the program year the engagement falls in (its calendar year when none)

    @property
    def other_year(self) -> bool:
        """The engagement's year has no type of that code, so it counts under the planned year's."""
        return self.activity_type.program_year.year != self.engagement_year


def member_credit(*, opportunity: Opportunity) -> MemberCredit:
    """The type (and so the catalogue year) completing it credits, judged by its date (today when ongoing).

    No query when the engagement falls in the planned type's year; one when it falls in another.
    """
    day = timezone.localdate(opportunity.starts_at) if opportunity.starts_at else timezone.localdate()
    planned = opportunity.activity_type
    credited = credited_activity_type(opportunity=opportunity, on=day)
    if credited.pk != planned.pk or planned.program_year.opens_on <= day < planned.program_year.deadline:
        return MemberCredit(activity_type=credited, engagement_year=credited.program_year.year)
    return MemberCredit(activity_type=planned, engagement_year=day.year)


def _type_label(activity_type: ActivityType) -> str:
    return _("“%(name)s” of the %(year)s catalogue") % {
        "name": activity_type.name,
        "year": activity_type.program_year.year,
    }


def opportunity_credit_note(*, opportunity: Opportunity) -> tuple[str, bool]:
    """What completing the opportunity credits, judged by its start (today when ongoing), for staff.

    Returns (the sentence, whether it calls for a warning: another year's type than the one chosen,
    or the chosen one for an engagement held in a year whose catalogue has no such type, as the
    member's page says too).
    """
    credit = member_credit(opportunity=opportunity)
    credited = credit.activity_type
    if credit.other_year:
        note = _(
            "Completing it credits %(type)s: the engagement falls in %(year)s, "
            "whose catalogue has no such activity yet."
        )
        return note % {"type": _type_label(credited), "year": credit.engagement_year}, True
    if credited.pk == opportunity.activity_type_id:
        return _("Completing it credits %(type)s.") % {"type": _type_label(credited)}, False
    note = _("Completing it credits %(type)s, the catalogue of the engagement's year, not %(chosen)s chosen above.")
    return note % {"type": _type_label(credited), "chosen": _type_label(opportunity.activity_type)}, True


def signup_credit_note(*, signup_id: int) -> str | None:
    """After a completion: says so when the credit went to another year's type than the one chosen."""
    signup = SignUp.objects.select_related("opportunity__activity_type__program_year").get(pk=signup_id)
    credit = (
        Contribution.objects.select_related("activity_type__program_year")
        .filter(source_key=f"signup:{signup.pk}")
        .first()
    )
    if credit is None or credit.activity_type_id == signup.opportunity.activity_type_id:
        return None
    return _("credited as %(type)s (the engagement's year), not %(chosen)s chosen on the opportunity.") % {
        "type": _type_label(credit.activity_type),
        "chosen": _type_label(signup.opportunity.activity_type),
    }
