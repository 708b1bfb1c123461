import sys
from datetime import datetime
from pathlib import Path

import orjson
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_safe

from accounts.requests import AuthenticatedRequest
from accounts.roles import is_admin_path
from mahome import dashboard_cache, health
from mahome.dev_outbox import dev_outbox_emails
from mahome.help import program_rules


@never_cache
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    """/healthz in words, for the footer's "Service status": what works and what members will notice."""
    database = health.check_database()
    broker = health.check_broker()
    worker, worker_last_seen = health.check_worker() if database == health.OK else (health.STALE, None)
    healthy = database == health.OK and broker == health.OK
    context = {
        "healthy": healthy,
        "database_ok": database == health.OK,
        "broker_ok": broker == health.OK,
        "worker_ok": worker == health.OK,
        "worker_last_seen": datetime.fromisoformat(worker_last_seen) if worker_last_seen else None,
    }
    return render(request, "status.html", context, status=200 if healthy else 503)


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    return render(request, "help.html", {"rules": program_rules()})


@require_GET
def dev_outbox(request: HttpRequest) -> HttpResponse:
    """The emails the local run wrote to var/outbox/ (file email backend); absent elsewhere."""
    # Only the file email backend sets EMAIL_FILE_PATH: without it there is no outbox to read.
    folder = getattr(settings, "EMAIL_FILE_PATH", None)
    if not settings.MAHOME_DEV_OUTBOX or not folder:
        raise Http404
    return render(request, "dev_outbox.html", {"emails": dev_outbox_emails(folder=Path(folder))})


@require_safe
@cache_control(max_age=24 * 60 * 60, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for where a page names no icon (a PDF, a JSON answer): a temporary
    redirect to the static favicon (whitenoise serves it), since its hashed name changes with each release."""
    return HttpResponseRedirect(static("img/favicon.svg"))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Machine-readable health: 200 when database and broker answer, 503 otherwise."""
    database = health.check_database()
    broker = health.check_broker()
    worker, worker_last_seen = health.check_worker() if database == health.OK else (health.STALE, None)
    healthy = database == health.OK and broker == health.OK
    body = {
        "status": "ok" if healthy else "degraded",
        "database": database,
        "broker": broker,
        "worker": worker,
        "worker_last_seen": worker_last_seen,
    }
    return HttpResponse(orjson.dumps(body), status=200 if healthy else 503, content_type="application/json")


@login_required
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """The member's control tower, composed from each app's selectors in a fixed number of queries."""
    return render(request, "dashboard.html", {"dashboard_body": dashboard_cache.body(request=request)})


def error_403(request: HttpRequest, exception=None) -> HttpResponse:
    """Staff refused an admin page stay in the admin (its header, its navigation); members get their page."""
    user = getattr(request, "user", None)
    if is_admin_path(request.path) and user is not None and user.is_authenticated and user.is_staff:
        from django.contrib import admin

        context = {**admin.site.each_context(request), "title": _("You do not have permission to open this page")}
        return render(request, "admin/403.html", context, status=403)
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception=None) -> HttpResponse:
    return render(request, "404.html", status=404)


def error_429(request: HttpRequest, exception=None) -> HttpResponse:
    """allauth's rate limits answer with ROOT_URLCONF.handler429: our page, not a bare one."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "300"
    return response


def error_500(request: HttpRequest) -> HttpResponse:
    """The last resort. A database that is away (a restart, a failover) is a 503 "back in a moment".

    Middleware that touches the session or the user can hit the database before any view runs,
    so this handler, not only DatabaseUnavailableMiddleware, has to recognise that case.
    """
    # Deliberately no context processors: the database may be the thing that failed.
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        response = HttpResponse(get_template("503.html").render({}), status=503)
        response["Retry-After"] = "10"
        return response
    return HttpResponse(get_template("500.html").render({}), status=500)
