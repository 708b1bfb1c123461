"""Every admin page answers for every staff role: no page of the staff console is a server error.

The admins are discovered from `admin.site._registry` and the admin's URLconf, so a new
ModelAdmin, a new custom admin view or a new action is walked without editing this test.
For each registered model: the list, the add form, one object's change form, its history and
its delete confirmation; then every action of the list with that object selected (the
intermediate page, or the action itself); then every other URL of the admin (custom views,
import and export pages, the app indexes), with the object's id wherever a URL takes one.

Data: the demo data of `seed_demo` (the program as staff see it) and, for the few models the
demo leaves empty, one object each (`_extra_objects`). A registered model with no object fails
the test, naming it: add it to the demo data or to _extra_objects.

Roles: a superuser, a program admin and a verifier, each with the authenticator app staff
need for the admin. A 403 (a role refused) is a valid answer when it is the admin's own 403 page;
a 5xx never is.
"""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.roles import PROGRAM_ADMIN, VERIFIER
from tests.factories import StaffFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

ROLES = ("superuser", "program_admin", "verifier")
# Named admin URLs every registered model has; the walk visits them per object.
STANDARD = ("changelist", "add", "change", "history", "delete")
# URLs of the admin site that are not pages: signing out is a POST that ends the walk's session.
NOT_PAGES = {"admin:logout"}
# A refused admin URL answers with the admin's own 403 page (its header), never the member one.
ADMIN_HEADER = "MA Home — program administration"


def _extra_objects() -> None:
    """One object of each registered model that the demo data leaves empty."""
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
    from allauth.usersessions.models import UserSession
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    from community_levels.models import (
        BossApplication,
        BossProgramWindow,
        CommunityMember,
        CommunitySource,
        Level,
        SourceRun,
    )
    from contributions.models import TargetOverride
    from engagements.models import Suggestion
    from tests.factories import CommunitySourceFactory, SuggestionFactory, UserFactory

    member = UserFactory(email="walk.member@example.com", first_name="Walk", last_name="Member")
    if not IntervalSchedule.objects.exists():  # (migrations schedule some jobs on a crontab)
        every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
        PeriodicTask.objects.create(name="walk", task="mahome.tasks.walk", interval=every_hour)
    if not CrontabSchedule.objects.exists():
        CrontabSchedule.objects.create(minute="0", hour="3")
    if not CommunitySource.objects.exists():
        CommunitySourceFactory()
    if not SourceRun.objects.exists():
        SourceRun.objects.create(source=CommunitySource.objects.first(), started_at=timezone.now())
    if not ClockedSchedule.objects.exists():
        ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(days=1))
    if not SolarSchedule.objects.exists():
        SolarSchedule.objects.create(event="sunrise", latitude=51.5, longitude=-0.12)
    if not SocialAccount.objects.exists():
        app = SocialApp.objects.first()
        account = SocialAccount.objects.create(user=member, provider=app.provider_id or app.provider, uid="walk-1")
        if not SocialToken.objects.exists():
            SocialToken.objects.create(app=app, account=account, token="walk-token")
    if not UserSession.objects.exists():
        UserSession.objects.create(user=member, ip="127.0.0.1", session_key="walk-session", user_agent="walk")
    if not Suggestion.objects.exists():
        SuggestionFactory(member=member)
    if not TargetOverride.objects.exists():
        from contributions.models import ProgramYear

        TargetOverride.objects.create(
            member=member, program_year=ProgramYear.objects.order_by("-year").first(), target_points=100, reason="walk"
        )
    from accounts.models import SegmentMessage
    from accounts.services import segment_message_send
    from contributions.models import Audit, AuditRun, Contribution

    if not SegmentMessage.objects.exists():
        admin_user = StaffFactory(email="walk.sender@example.com", groups=[PROGRAM_ADMIN])
        segment_message_send(author=admin_user, title="Walk", body="Hello", recipients=[member], segment="walk")
    verified = Contribution.objects.filter(state=Contribution.State.VERIFIED).order_by("pk").first()
    if not AuditRun.objects.exists() and verified is not None:
        AuditRun.objects.create(
            program_year=verified.program_year, verified_until=timezone.now(), rate=5, seed=1, considered=1, sampled=1
        )
    if not Audit.objects.exists() and verified is not None:
        from contributions.services.audits import audit_open

        audit_open(contribution_id=verified.pk, reasons=["link_only"], probability=0.1, run=AuditRun.objects.first())
    if not BossApplication.objects.exists():
        window = BossProgramWindow.objects.first()
        if window is not None:
            community_member = CommunityMember.objects.exclude(level=None).first() or CommunityMember.objects.first()
            BossApplication.objects.create(
                window=window,
                member=community_member,
                level_at_application=community_member.level or Level.objects.order_by("rank").first(),
                statement="walk",
            )


def _staff(role: str):
    if role == "superuser":
        return with_mfa(StaffFactory(email="walk.root@example.com", is_superuser=True))
    group = {"program_admin": PROGRAM_ADMIN, "verifier": VERIFIER}[role]
    return with_mfa(StaffFactory(email=f"walk.{role}@example.com", groups=[group]))


def _admin_patterns(resolver=None, prefix="admin/", namespace="admin"):
    """(name, route) of every URL under /admin/, from the admin site's own URLconf."""
    if resolver is None:
        resolver = next(p for p in get_resolver().url_patterns if getattr(p, "app_name", None) == "admin")
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _admin_patterns(pattern, prefix + str(pattern.pattern), namespace)
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}:{pattern.name}" if pattern.name else None), prefix + str(pattern.pattern)


def _object_for(model):
    return model._default_manager.order_by("-pk").first()


def _fill(route: str, objects: dict) -> str | None:
    """A concrete path for a route: the model's object id for <pk>/<object_id>; None when unknown."""
    path = "/" + route.lstrip("^").rstrip("$")
    model_prefix = re.match(r"/admin/(\w+)/(\w+)/", path)
    obj = None
    if model_prefix:
        obj = objects.get((model_prefix.group(1), model_prefix.group(2)))
    app_list = re.search(r"\(\?P<app_label>[^)]*\)", path)
    if app_list:
        return None  # the app index is visited per app below
    if re.search(r"<(?:\w+:)?(?:pk|object_id|id)>", path) or "(?P<object_id>" in path:
        if obj is None:
            return None
        path = re.sub(r"<(?:\w+:)?(?:pk|object_id|id)>", str(obj.pk), path)
        path = re.sub(r"\(\?P<object_id>[^)]*\)", str(obj.pk), path)
    if "<" in path or "(?P" in path:
        return None  # view_on_site shortcuts and the like, reached from a page, not a page of their own
    return path


def _walk(client: Client, objects: dict) -> tuple[list[str], list[str]]:
    visited: list[str] = []
    failures: list[str] = []

    def visit(method: str, path: str, data=None) -> None:
        response = client.post(path, data or {}) if method == "POST" else client.get(path)
        visited.append(f"{method} {path}")
        if response.status_code >= 500:
            failures.append(f"{method} {path} -> {response.status_code}")
        elif response.status_code == 403 and ADMIN_HEADER not in response.content.decode(errors="replace"):
            failures.append(f"{method} {path} -> 403 outside the admin's own page")

    standard_paths = set()
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        obj = objects[(opts.app_label, opts.model_name)]
        for path in (base, f"{base}add/", f"{base}{obj.pk}/change/", f"{base}{obj.pk}/history/"):
            standard_paths.add(path)
            visit("GET", path)
        delete = f"{base}{obj.pk}/delete/"
        standard_paths.add(delete)
        visit("GET", delete)
        for action in model_admin.get_actions(_RequestFor(client)) or {}:
            if action == "delete_selected":
                # Its confirmation page (no "post"): nothing is deleted.
                visit("POST", base, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk]})
                continue
            visit("POST", base, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk], "index": 0})
    for app_label in {model._meta.app_label for model in admin.site._registry}:
        visit("GET", f"/admin/{app_label}/")
    for name, route in _admin_patterns():
        if name in NOT_PAGES:
            continue
        path = _fill(route, objects)
        if path is None or path in standard_paths or path.endswith(("/add/", "/change/", "/delete/", "/history/")):
            continue
        visit("GET", path)
    return visited, failures


class _RequestFor:
    """What ModelAdmin.get_actions needs of a request: the signed-in user of the walking client."""

    def __init__(self, client: Client):
        from django.contrib.auth import get_user_model

        session = client.session
        self.user = get_user_model().objects.get(pk=session["_auth_user_id"])
        self.GET = {}
        self.POST = {}
        self.method = "GET"


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", stdout=StringIO())
    _extra_objects()
    objects = {}
    for model in admin.site._registry:
        objects[(model._meta.app_label, model._meta.model_name)] = _object_for(model)
    missing = sorted(f"{app}.{name}" for (app, name), obj in objects.items() if obj is None)
    assert not missing, f"registered models without an object to walk (add one to _extra_objects): {missing}"
    return objects


def test_every_admin_page_answers_for_every_staff_role_without_a_server_error(demo, capsys):
    """One seeding, three walks (seeding the demo takes most of the time)."""
    all_failures = []
    total = 0
    for role in ROLES:
        client = Client(raise_request_exception=False)
        client.force_login(_staff(role), backend="django.contrib.auth.backends.ModelBackend")
        visited, failures = _walk(client, demo)
        assert len(visited) > 5 * len(admin.site._registry), role
        total += len(visited)
        all_failures += [f"{role}: {failure}" for failure in failures]
        with capsys.disabled():
            print(f"\nadmin walk as {role}: {len(visited)} pages visited, {len(failures)} server errors")
    with capsys.disabled():
        print(f"admin walk: {total} pages visited for {len(ROLES)} roles, {len(admin.site._registry)} admins")
    assert not all_failures, "\n".join(all_failures)
