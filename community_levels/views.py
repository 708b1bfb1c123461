from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.requests import AuthenticatedRequest
from community_levels import me_cache, selectors, services
from community_levels.forms import BossApplicationForm
from community_levels.metrics import METRICS, PASSIVE
from community_levels.rules import load_rules
from mahome.errors import show_refusal


def levels(request: HttpRequest) -> HttpResponse:
    """The public ladder with each level's exact criteria and how scores are computed."""
    rules = load_rules()
    rows = selectors.ladder(rules=rules)

    def weights(*, passive: bool) -> list[dict[str, object]]:
        return [
            {"metric": metric, "weight": rules.weights[metric.code], "cap": rules.caps[metric.code]}
            for metric in METRICS
            if (metric.tier == PASSIVE) == passive
        ]

    return render(
        request,
        "community_levels/levels.html",
        {
            "passive_rows": [row for row in rows if row.level.tier == PASSIVE],
            "active_rows": [row for row in rows if row.level.tier != PASSIVE],
            "passive_weights": weights(passive=True),
            "active_weights": weights(passive=False),
        },
    )


@login_required
def me(request: AuthenticatedRequest) -> HttpResponse:
    body = me_cache.body(request=request)
    if not body:  # no community identity linked to the account
        return render(request, "community_levels/me_unlinked.html", {})
    return render(request, "community_levels/me.html", {"body": body})


@login_required
@require_http_methods(["GET", "POST"])
def boss(request: AuthenticatedRequest) -> HttpResponse:
    today = timezone.localdate()
    member = selectors.member_for_user(user=request.user)
    window = selectors.boss_window_open(today=today)
    eligible = bool(member and member.level and member.level.boss_program_eligible)
    applications = list(selectors.boss_applications_for(member=member)) if member else []
    applied_now = window is not None and any(a.window_id == window.pk for a in applications)
    form = BossApplicationForm(request.POST or None)
    if request.method == "POST" and member is not None and form.is_valid():
        try:
            services.boss_application_submit(member=member, statement=form.cleaned_data["statement"], today=today)
        except services.CommunityError as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("Your application was sent. The program team will get back to you."))
            return redirect("community_levels:boss")
    return render(
        request,
        "community_levels/boss.html",
        {
            "member": member,
            "window": window,
            "next_window": None if window else selectors.boss_window_next(today=today),
            "eligible": eligible,
            "applications": applications,
            "applied_now": applied_now,
            "form": form,
        },
    )
