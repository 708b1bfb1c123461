"""Member pages of the engagements app: thin views over selectors and services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.messages.utils import get_level_tags
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.requests import AuthenticatedRequest
from engagements import list_cache, selectors, services
from engagements.calendar import signup_calendar, signup_calendar_start
from engagements.forms import SuggestionForm
from engagements.models import SignUp
from mahome.errors import show_refusal

PAGE_SIZE = list_cache.PAGE_SIZE


@login_required
@require_GET
def opportunity_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "engagements/opportunity_list.html", {"list_body": list_cache.body(request=request)})


def _panel_context(request: AuthenticatedRequest, opportunity) -> dict:
    signup = selectors.signup_current_for_member(opportunity=opportunity, member=request.user)
    is_full = opportunity.slots_left is not None and opportunity.slots_left <= 0
    context = {
        "opportunity": opportunity,
        "signup": signup,
        "refusal": services.signup_refusal(opportunity=opportunity),
        "is_full": is_full,
        "can_withdraw": False,
    }
    if signup is not None and signup.is_live:
        context["can_withdraw"] = services.withdraw_refusal(signup=signup) is None
        context["has_calendar"] = signup.state == SignUp.State.SCHEDULED or (
            signup.state == SignUp.State.CONFIRMED and signup_calendar_start(signup=signup) is not None
        )
    return context


@login_required
@require_GET
def opportunity_detail(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    opportunity = selectors.opportunity_for_member(slug=slug)
    context = _panel_context(request, opportunity) | {"credit": selectors.member_credit(opportunity=opportunity)}
    return render(request, "engagements/opportunity_detail.html", context)


@login_required
@require_POST
def signup_create(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    opportunity = selectors.opportunity_to_sign_up(slug=slug, member=request.user)
    try:
        signup, created = services.signup_create(opportunity_id=opportunity.pk, member=request.user, seen=opportunity)
    except services.EngagementError as error:
        show_refusal(request, error)
        return redirect(opportunity)
    if not created:
        messages.info(request, _("You are already signed up for this opportunity."))
    elif signup.state == SignUp.State.CONFIRMED:
        messages.success(request, _("You're in: a slot is yours. The program team will follow up with next steps."))
    else:
        messages.info(request, _("All slots are taken, so you are on the waitlist. We will tell you if a slot frees."))
    return redirect(opportunity)


def _signup_action(request: AuthenticatedRequest, signup_id: int, action, success: str) -> HttpResponse:
    """Run a member's action on their own sign-up; answer htmx with the refreshed panel."""
    try:
        signup = action(signup_id=signup_id, member=request.user)
    except SignUp.DoesNotExist as error:
        raise Http404 from error
    except services.EngagementError as error:
        signup = selectors.signup_for_member(signup_id=signup_id, member=request.user)
        level, text = messages.ERROR, str(error)
    else:
        if signup.end_reason == SignUp.EndReason.OFFER_EXPIRED:
            level, text = messages.WARNING, _("Sorry, this offer had expired, so the slot passed to the next member.")
        else:
            level, text = messages.SUCCESS, success
    opportunity = selectors.opportunity_for_member(slug=signup.opportunity.slug)
    if request.htmx:
        context = _panel_context(request, opportunity) | {"panel_message": text, "panel_tag": get_level_tags()[level]}
        return render(request, "engagements/_signup_panel.html", context)
    messages.add_message(request, level, text)
    return redirect(opportunity)


@login_required
@require_POST
def signup_withdraw(request: AuthenticatedRequest, signup_id: int) -> HttpResponse:
    return _signup_action(request, signup_id, services.signup_withdraw, _("You have withdrawn your sign-up."))


@login_required
@require_POST
def signup_offer_accept(request: AuthenticatedRequest, signup_id: int) -> HttpResponse:
    return _signup_action(request, signup_id, services.signup_offer_accept, _("You accepted the slot. See you there!"))


@login_required
@require_POST
def signup_offer_decline(request: AuthenticatedRequest, signup_id: int) -> HttpResponse:
    return _signup_action(
        request, signup_id, services.signup_offer_decline, _("You declined the offer; it goes to the next member.")
    )


@login_required
@require_GET
def signup_calendar_file(request: AuthenticatedRequest, signup_id: int) -> HttpResponse:
    signup = selectors.signup_for_member(signup_id=signup_id, member=request.user)
    if not signup.is_live or signup_calendar_start(signup=signup) is None:
        raise Http404
    response = HttpResponse(signup_calendar(signup=signup), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{signup.opportunity.slug}.ics"'
    return response


@login_required
@require_GET
def signup_list(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(selectors.signups_for_member(member=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "engagements/signup_list.html", {"page": page})


@login_required
def suggestion_list(request: AuthenticatedRequest) -> HttpResponse:
    form = SuggestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.suggestion_create(member=request.user, **form.cleaned_data)
        messages.success(request, _("Thank you! The program team will review your suggestion and decide."))
        return redirect("engagements:suggestion_list")
    suggestions = selectors.suggestions_for_member(member=request.user)
    return render(request, "engagements/suggestion_list.html", {"form": form, "suggestions": suggestions})
