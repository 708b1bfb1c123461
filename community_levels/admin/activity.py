"""Community members, their activity events and imports, and the sources activity is pulled from."""

import time
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms import PasswordInput
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

from community_levels import services
from community_levels.forms import ActivityImportForm
from community_levels.ingestion import IngestResult, is_activity_file
from community_levels.models import (
    ActivityEvent,
    CommunityMember,
    CommunitySource,
    SourceRun,
)
from mahome.admin_site import ReadOnlyAdminMixin
from mahome.errors import show_refusal


@admin.action(description=gettext_lazy("Exclude their events from the score"), permissions=["change"])
def exclude_members(modeladmin, request, queryset) -> None:
    for member in queryset:
        services.member_set_excluded(member=member, excluded=True)
    n = queryset.count()
    messages.success(
        request,
        ngettext(
            "%(n)d member excluded; their level is being recomputed.",
            "%(n)d members excluded; their levels are being recomputed.",
            n,
        )
        % {"n": n},
    )


@admin.action(description=gettext_lazy("Count their events again"), permissions=["change"])
def include_members(modeladmin, request, queryset) -> None:
    for member in queryset:
        services.member_set_excluded(member=member, excluded=False)
    n = queryset.count()
    messages.success(request, ngettext("%(n)d member included again.", "%(n)d members included again.", n) % {"n": n})


@admin.register(CommunityMember)
class CommunityMemberAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "external_id", "email", "user", "level", "passive_score", "active_score", "is_excluded"]
    list_filter = ["level", "is_excluded"]
    search_fields = ["external_id", "username", "email", "user__email"]
    list_select_related = ["level", "user"]
    raw_id_fields = ["user"]
    actions = [exclude_members, include_members]
    readonly_fields = [
        "level",
        "level_changed_at",
        "passive_score",
        "active_score",
        "is_excluded",
        *(f.name for f in CommunityMember._meta.fields if f.name.startswith("m_")),
    ]


def _import_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "community-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# How long an uploaded file waits between its preview and its import.
PREVIEW_KEPT_SECONDS = 24 * 3600


def _preview_expired(path: Path) -> bool:
    """Whether an uploaded file has waited over PREVIEW_KEPT_SECONDS for its import (or is gone already:
    another request took or removed it meanwhile)."""
    try:
        return path.stat().st_mtime < time.time() - PREVIEW_KEPT_SECONDS
    except OSError:
        return True


def _forget_old_previews(folder: Path) -> None:
    """Uploads previewed and never imported that have expired are deleted (their import would answer "That
    upload has expired"): a preview left behind does not stay on disk for ever."""
    for waiting in folder.iterdir():
        if waiting.is_file() and _preview_expired(waiting):
            waiting.unlink(missing_ok=True)


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Stored events, read and imported here, never added, changed or deleted by hand: a deleted event would
    leave what it added in the daily totals and free its id, so the next pull or replay counted it twice. The
    sync takes back events the platform removed (`revoke_events`: marked revoked, their totals taken back)."""

    list_display = [
        "event_id",
        "source",
        "member",
        "kind",
        "occurred_at",
        "quantity",
        "minutes",
        "is_self_like",
        "revoked_at",
    ]
    list_filter = ["kind", "source", "is_self_like", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "member__external_id", "member__email"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]
    change_list_template = "admin/community_levels/activityevent/change_list.html"

    def has_import_permission(self, request) -> bool:
        """Importing writes events that change members' scores: program admins, not verifiers."""
        return request.user.is_staff and request.user.has_perm("community_levels.add_activityevent")

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra)

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="community_levels_activityevent_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a file, see its counts and bad lines (nothing written), then confirm the import."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import community activity"),
            "opts": self.model._meta,
        }
        form = ActivityImportForm()
        if request.method == "POST" and request.POST.get("token"):
            token = request.POST["token"]
            matches = list(_import_dir().glob(f"{uuid.UUID(token)}.*")) if _is_uuid(token) else []
            matches = [match for match in matches if not _preview_expired(match)]
            if not matches:
                messages.error(request, _("That upload has expired; choose the file again."))
                return HttpResponseRedirect(reverse("admin:community_levels_activityevent_import"))
            try:
                result = services.activity_ingest_file(path=matches[0])
            except services.CommunityError as error:
                show_refusal(request, error)
                return HttpResponseRedirect(reverse("admin:community_levels_activityevent_import"))
            finally:
                matches[0].unlink(missing_ok=True)
            context.update({"result": result, "done": True, "summary": _import_summary(result)})
            return render(request, "admin/community_levels/activityevent/import.html", context)
        if request.method == "POST":
            form = ActivityImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                suffix = Path(upload.name).suffix.lower()
                if not is_activity_file(Path(upload.name)):
                    form.add_error("file", _("Upload a .jsonl or .csv file."))
                else:
                    token = str(uuid.uuid4())
                    _forget_old_previews(_import_dir())
                    target = _import_dir() / f"{token}{suffix}"
                    with target.open("wb") as handle:
                        for chunk in upload.chunks():
                            handle.write(chunk)
                    try:
                        preview, good = services.activity_preview_file(path=target)
                    except services.CommunityError as error:
                        target.unlink(missing_ok=True)
                        show_refusal(request, error, form=form)
                    else:
                        if not good:  # nothing to import: the file is not kept, no import is offered
                            target.unlink(missing_ok=True)
                        context.update(
                            {
                                "preview": preview,
                                "good": good,
                                "token": token if good else None,
                                "filename": upload.name,
                                "summary": _preview_summary(preview, good),
                                "nothing_to_import": "" if good else _nothing_to_import(preview),
                            }
                        )
        context["form"] = form
        return render(request, "admin/community_levels/activityevent/import.html", context)


def _lines_read(count: int) -> str:
    return ngettext("%(n)d line read", "%(n)d lines read", count) % {"n": count}


def _preview_summary(preview: IngestResult, good: int) -> str:
    return _("%(lines_read)s: %(good)d good, %(bad)d bad.") % {
        "lines_read": _lines_read(preview.read),
        "good": good,
        "bad": preview.bad,
    }


def _nothing_to_import(preview: IngestResult) -> str:
    if not preview.read:
        return _("Nothing can be imported: the file has no event in it.")
    return _("Nothing can be imported: every line read is bad (the reasons are below, with their line numbers).")


def _import_summary(result: IngestResult) -> str:
    """What an import did; levels are said to be recomputed only when it brought new events."""
    summary = _("%(lines_read)s: %(new)s, %(known)s, %(bad)s.") % {
        "lines_read": _lines_read(result.read),
        "new": ngettext("%(n)d new event", "%(n)d new events", result.imported) % {"n": result.imported},
        "known": ngettext("%(n)d already known", "%(n)d already known", result.duplicates) % {"n": result.duplicates},
        "bad": ngettext("%(n)d bad line skipped", "%(n)d bad lines skipped", result.bad) % {"n": result.bad},
    }
    return f"{summary} {_('Levels are being recomputed.')}" if result.imported else summary


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@admin.action(description=gettext_lazy("Pull new activity now"), permissions=["change"])
def sync_sources(modeladmin, request, queryset) -> None:
    sources = list(queryset)
    for source in sources:
        services.source_sync_enqueue(source_id=source.pk, started_by=request.user)
    messages.info(
        request,
        _("Pull queued for %(names)s; each run appears under Source runs.")
        % {"names": ", ".join(str(source) for source in sources)},
    )


@admin.action(
    description=gettext_lazy("Reset the cursor (read the forum again from the start)…"), permissions=["change"]
)
def reset_cursors(modeladmin, request, queryset):
    sources = list(queryset)
    if request.POST.get("confirm") == "yes":
        for source in sources:
            services.source_cursor_reset(source=source, reset_by=request.user)
        messages.success(
            request,
            _("Cursor reset for %(names)s. The next runs read everything again; nothing is counted twice.")
            % {"names": ", ".join(str(source) for source in sources)},
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Reset the cursor of %(count)d source(s)?") % {"count": len(sources)},
        "sources": sources,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return render(request, "admin/community_levels/communitysource/reset_cursor.html", context)


@admin.register(CommunitySource)
class CommunitySourceAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "kind",
        "base_url",
        "enabled",
        "last_run_at",
        "last_run_ok",
        "last_run_items",
        "last_run_imported",
        "last_run_errors",
        "watermark",
    ]
    actions = [sync_sources, reset_cursors]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "api_key":
            kwargs["widget"] = PasswordInput(render_value=True)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    readonly_fields = [
        "watermark",
        "last_run_at",
        "last_run_ok",
        "last_run_items",
        "last_run_imported",
        "last_run_errors",
        "last_error",
        "cursor",
        "recent_runs",
    ]

    @admin.display(description=gettext_lazy("Recent runs"))
    def recent_runs(self, obj: CommunitySource) -> str:
        """The last runs (a killed run shows as running until the next one marks it interrupted)."""
        if obj.pk is None:
            return "—"
        runs = SourceRun.objects.filter(source=obj).order_by("-started_at", "-pk")[:10]
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    localize(timezone.localtime(run.started_at)),
                    run.get_state_display(),
                    _("yes") if run.caught_up else _("no"),
                    run.requests,
                    run.fetched,
                    run.imported,
                    run.message or "—",
                )
                for run in runs
            ),
        )
        link = reverse("admin:community_levels_sourcerun_changelist") + f"?source__id__exact={obj.pk}"
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            '</thead><tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
            _("Started"),
            _("State"),
            _("Caught up"),
            _("Requests"),
            _("Events read"),
            _("New events"),
            _("Message"),
            rows,
            link,
            _("All runs of this source"),
        )


@admin.register(SourceRun)
class SourceRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "started_at",
        "finished_at",
        "state",
        "caught_up",
        "requests",
        "fetched",
        "imported",
        "revoked",
    ]
    list_filter = ["state", "source"]
    list_select_related = ["source", "started_by"]
    readonly_fields = [field.name for field in SourceRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
