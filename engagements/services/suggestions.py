"""Members' suggestions and staff's decisions on them."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import notification_create
from contributions.models import ActivityType, ProgramYear
from engagements.models import Opportunity, Suggestion
from engagements.services.common import EngagementError, save_with_actor


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
    save_with_actor(suggestion, actor=member, exclude=["member"])
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
    save_with_actor(suggestion, actor=actor, exclude=["member", "decided_by"])
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
    save_with_actor(opportunity, actor=actor)
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
