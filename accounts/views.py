from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notification_mark_read(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("notification")
    services.notifications_mark_read(
        user=request.user, notification_ids=[int(i) for i in ids if i.isdigit()] if ids else None
    )
    return redirect("notification_list")
