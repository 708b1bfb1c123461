"""Staff screens: opportunities, follow-up of sign-ups, suggestions.

Every state change goes through engagements.services (actions, some with an intermediate form).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.admin import ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from accounts.exports import EXPORT_FORMATS
from engagements import selectors, services
from engagements.forms import (
    AcceptAsActivityTypeForm,
    AcceptAsOpportunityForm,
    CancelForm,
    DeclineForm,
    ScheduleForm,
    WithdrawForm,
)
from engagements.models import Opportunity, SignUp, Suggestion
from engagements.resources import SignUpExportResource
from mahome.errors import show_refusal


def _action_form(
    modeladmin, request, queryset, *, form_class, title: str | Promise, action: str, initial=None, consequences=()
):
    """Show the intermediate form of an action; return (form, None) when posted valid, else (None, response).

    `consequences` says, before anything happens, what the action will do and to how many.
    """
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            return form, None
    else:
        form = form_class(initial=initial)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "queryset": queryset,
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "consequences": consequences,
    }
    return None, TemplateResponse(request, "admin/action_form.html", context)


# What an action did, in the singular and the plural, "%(count)d" the number of items it did it to.
Done = tuple[str, str] | str | Promise


def _done(done: Done, count: int) -> str:
    if isinstance(done, tuple):
        return ngettext(done[0], done[1], count) % {"count": count}
    return str(done) % {"count": count}


def _run(modeladmin, request, items, call, done: Done) -> None:
    """Apply a service to each item; report successes and each refusal with its reason."""
    count = 0
    for item in items:
        try:
            call(item)
        except services.EngagementError as error:
            show_refusal(request, error, prefix=str(item), level=messages.WARNING)
        except ValidationError as error:
            modeladmin.message_user(request, f"{item}: {' '.join(error.messages)}", messages.ERROR)
        else:
            count += 1
    if count:
        modeladmin.message_user(request, _done(done, count), messages.SUCCESS)


def _confirm_then_run(
    modeladmin,
    request,
    queryset,
    *,
    form_class,
    title: str | Promise,
    action: str,
    call,
    done: Done,
    items=None,
    initial=None,
    consequences=(),
):
    """An action with an intermediate form: show it until it is posted valid, then apply
    `call(item, cleaned_data)` to each item (`items`, default the selection) and report."""
    form, response = _action_form(
        modeladmin,
        request,
        queryset,
        form_class=form_class,
        title=title,
        action=action,
        initial=initial,
        consequences=consequences,
    )
    if response:
        return response
    _run(modeladmin, request, queryset if items is None else items, lambda item: call(item, form.cleaned_data), done)
    return None


class OpportunityAdminForm(forms.ModelForm):
    # A refusal the service gave when this same form was saved a moment ago (see changeform_view).
    refusal: services.EngagementError | None = None

    class Meta:
        model = Opportunity
        fields = list(services.OPPORTUNITY_EDITABLE_FIELDS)

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if self.refusal is not None:
            self.add_error(self.refusal.field, str(self.refusal))
        if self.instance.pk and "capacity" in cleaned:
            probe = Opportunity(pk=self.instance.pk, capacity=cleaned["capacity"])
            problem = services.opportunity_capacity_problem(opportunity=probe)
            if problem:
                self.add_error("capacity", problem)
        return cleaned


class SignUpInline(admin.TabularInline):
    model = SignUp
    extra = 0
    can_delete = False
    fields = readonly_fields = ("member", "state", "created_at", "offer_expires_at", "scheduled_for", "end_reason")
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")


@admin.register(Opportunity)
class OpportunityAdmin(SimpleHistoryAdmin):
    form = OpportunityAdminForm
    list_display = ["title", "category", "state", "starts_at", "capacity", "waitlist_enabled", "activity_type"]
    list_filter = ["state", "category", "waitlist_enabled"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["activity_type__program_year"]
    readonly_fields = ["state", "cancellation_reason", "credited_as", "created_at", "updated_at"]
    inlines = [SignUpInline]
    actions = ["publish", "close", "cancel"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "state", "cancellation_reason"]}),
        (_("Credit"), {"fields": ["activity_type", "points", "credited_as"]}),
        (_("Description"), {"fields": ["summary", "description", "participation", "crediting"]}),
        (_("When and where"), {"fields": ["starts_at", "ends_at", "location"]}),
        (
            _("Slots and sign-ups"),
            {"fields": ["capacity", "signup_opens_at", "signup_closes_at", "waitlist_enabled", "offer_hours"]},
        ),
        (_("Record"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("credited as"))
    def credited_as(self, obj: Opportunity) -> str:
        if obj.pk is None:
            return _("Shown once saved: the type of the catalogue of the engagement's year.")
        return selectors.opportunity_credit_note(opportunity=obj)[0]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "_opportunity_refusal", None)
        if refusal is not None:
            form = type(form.__name__, (form,), {"refusal": refusal})
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save the service refuses (decided under the row lock) shows the form again with the reason.

        The refusal escapes save_model, so the admin's transaction (with its log entry) rolls
        back; the same POST is then validated once more and the form shows the refusal beside
        the field, with everything staff typed kept.
        """
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.EngagementError as refusal:
            request._opportunity_refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and services.opportunity_deletion_refusal(opportunity=obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, from a draft's own page
        return actions

    def delete_model(self, request, obj) -> None:
        services.opportunity_delete(opportunity_id=obj.pk, actor=request.user)

    def save_model(self, request, obj, form, change) -> None:
        """Writes go through the services: only the changed fields, under the opportunity's row lock."""
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if not change:
            obj.pk = services.opportunity_create(actor=request.user, fields=form.cleaned_data).pk
            obj.refresh_from_db()
            offered: list[SignUp] = []
        else:
            updated, offered = services.opportunity_update(opportunity_id=obj.pk, actor=request.user, changes=changes)
            obj.state, obj.cancellation_reason = updated.state, updated.cancellation_reason
        note, elsewhere = selectors.opportunity_credit_note(opportunity=obj)
        if elsewhere:
            self.message_user(request, note, messages.WARNING)
        if offered:
            self.message_user(
                request,
                ngettext(
                    "%(n)d freed slot was offered to the waitlist.", "%(n)d freed slots were offered.", len(offered)
                )
                % {"n": len(offered)},
            )

    @admin.action(description=_("Publish selected opportunities"), permissions=["change"])
    def publish(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda o: services.opportunity_set_state(
                opportunity_id=o.pk, actor=request.user, state=Opportunity.State.PUBLISHED
            ),
            ("%(count)d opportunity published.", "%(count)d opportunities published."),
        )

    @admin.action(description=_("Close sign-ups of selected opportunities"), permissions=["change"])
    def close(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda o: services.opportunity_set_state(
                opportunity_id=o.pk, actor=request.user, state=Opportunity.State.CLOSED
            ),
            ("%(count)d opportunity closed.", "%(count)d opportunities closed."),
        )

    @admin.action(description=_("Cancel selected opportunities (notifies everyone signed up)"), permissions=["change"])
    def cancel(self, request, queryset):
        live = SignUp.objects.filter(opportunity__in=queryset, state__in=SignUp.LIVE_STATES).count()
        already = queryset.filter(state=Opportunity.State.CANCELLED).count()
        consequences = [
            ngettext(
                "%(n)d member will be told by message and email, with your reason.",
                "%(n)d members will be told by message and email, with your reason.",
                live,
            )
            % {"n": live},
            _("Their sign-ups end; nobody can sign up again. Cancelling cannot be undone."),
        ]
        if already:
            consequences.append(
                ngettext(
                    "%(n)d selected opportunity is already cancelled and will be skipped.",
                    "%(n)d selected opportunities are already cancelled and will be skipped.",
                    already,
                )
                % {"n": already}
            )
        form, response = _action_form(
            self,
            request,
            queryset,
            form_class=CancelForm,
            title=_("Cancel opportunities"),
            action="cancel",
            consequences=consequences,
        )
        if response:
            return response
        told = 0
        for opportunity in queryset.exclude(state=Opportunity.State.CANCELLED):
            told += services.opportunity_cancel(
                opportunity_id=opportunity.pk, actor=request.user, reason=form.cleaned_data["reason"]
            )
        self.message_user(
            request,
            ngettext("Cancelled; %(n)d member was notified.", "Cancelled; %(n)d members were notified.", told)
            % {"n": told},
            messages.SUCCESS,
        )
        return None


@admin.register(SignUp)
class SignUpAdmin(ExportMixin, SimpleHistoryAdmin):
    resource_classes = [SignUpExportResource]
    export_formats = EXPORT_FORMATS
    list_display = ["member", "opportunity", "state", "created_at", "offer_expires_at", "scheduled_for"]
    list_filter = ["state", "opportunity"]
    search_fields = ["member__email", "member__last_name", "opportunity__title"]
    list_select_related = ["member", "opportunity"]
    readonly_fields = [
        "opportunity",
        "member",
        "state",
        "created_at",
        "offered_at",
        "offer_expires_at",
        "confirmed_at",
        "next_steps",
        "scheduled_for",
        "completed_at",
        "ended_at",
        "end_reason",
        "end_note",
        "updated_at",
    ]
    actions = ["schedule", "complete", "mark_no_show", "withdraw"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Schedule: set next steps and a date"), permissions=["change"])
    def schedule(self, request, queryset):
        return _confirm_then_run(
            self,
            request,
            queryset,
            form_class=ScheduleForm,
            title=_("Schedule sign-ups"),
            action="schedule",
            call=lambda s, data: services.signup_schedule(signup_id=s.pk, actor=request.user, **data),
            done=("%(count)d sign-up scheduled.", "%(count)d sign-ups scheduled."),
        )

    @admin.action(description=_("Mark completed (credits the points once)"), permissions=["change"])
    def complete(self, request, queryset):
        def complete_one(signup: SignUp) -> None:
            services.signup_complete(signup_id=signup.pk, actor=request.user)
            note = selectors.signup_credit_note(signup_id=signup.pk)
            if note:
                self.message_user(request, f"{signup}: {note}", messages.INFO)

        _run(self, request, queryset, complete_one, ("%(count)d sign-up completed.", "%(count)d sign-ups completed."))

    @admin.action(description=_("Mark no-show"), permissions=["change"])
    def mark_no_show(self, request, queryset):
        _run(
            self,
            request,
            queryset,
            lambda s: services.signup_mark_no_show(signup_id=s.pk, actor=request.user),
            _("%(count)d marked as no-show."),
        )

    @admin.action(description=_("Withdraw with a reason (tells the member)"), permissions=["change"])
    def withdraw(self, request, queryset):
        live = [signup for signup in queryset if signup.is_live]
        holding = sum(1 for signup in live if signup.state in SignUp.SLOT_STATES)
        consequences = [
            ngettext(
                "%(n)d member will be told by message and email, with your reason.",
                "%(n)d members will be told by message and email, with your reason.",
                len(live),
            )
            % {"n": len(live)},
            ngettext(
                "%(n)d freed slot will be offered to the next in line, where someone is waiting.",
                "%(n)d freed slots will be offered to the next in line, where someone is waiting.",
                holding,
            )
            % {"n": holding},
        ]
        skipped = queryset.count() - len(live)
        if skipped:
            consequences.append(
                ngettext(
                    "%(n)d selected sign-up is no longer active and will be skipped.",
                    "%(n)d selected sign-ups are no longer active and will be skipped.",
                    skipped,
                )
                % {"n": skipped}
            )
        return _confirm_then_run(
            self,
            request,
            queryset,
            form_class=WithdrawForm,
            title=_("Withdraw sign-ups"),
            action="withdraw",
            consequences=consequences,
            call=lambda s, data: services.signup_withdraw_by_staff(
                signup_id=s.pk, actor=request.user, reason=data["reason"]
            ),
            done=(
                "%(count)d sign-up withdrawn; the member was told why.",
                "%(count)d sign-ups withdrawn; each member was told why.",
            ),
        )


@admin.register(Suggestion)
class SuggestionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "member", "proposed_category", "state", "points", "created_at"]
    list_filter = ["state", "proposed_category"]
    search_fields = ["title", "member__email"]
    list_select_related = ["member"]
    readonly_fields = [
        "member",
        "title",
        "description",
        "proposed_category",
        "why_it_matters",
        "state",
        "decision_reason",
        "decided_by",
        "decided_at",
        "points",
        "created_activity_type",
        "created_opportunity",
        "created_at",
    ]
    actions = ["accept_as_activity_type", "accept_as_opportunity", "decline"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a member's suggestion: accepted or declined (with who and when), never deleted

    def _one(self, request, queryset) -> Suggestion | None:
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one suggestion to accept."), messages.WARNING)
            return None
        return queryset.get()

    @admin.action(description=_("Accept: add an activity type to the catalogue"), permissions=["change"])
    def accept_as_activity_type(self, request, queryset):
        suggestion = self._one(request, queryset)
        if suggestion is None:
            return None
        return _confirm_then_run(
            self,
            request,
            queryset,
            items=[suggestion],
            form_class=AcceptAsActivityTypeForm,
            title=_("Accept as an activity type"),
            action="accept_as_activity_type",
            initial={"category": suggestion.proposed_category},
            call=lambda s, data: services.suggestion_accept_as_activity_type(
                suggestion_id=s.pk, actor=request.user, **data
            ),
            done=_("Accepted; the activity type was added."),
        )

    @admin.action(description=_("Accept: create a draft opportunity"), permissions=["change"])
    def accept_as_opportunity(self, request, queryset):
        suggestion = self._one(request, queryset)
        if suggestion is None:
            return None
        return _confirm_then_run(
            self,
            request,
            queryset,
            items=[suggestion],
            form_class=AcceptAsOpportunityForm,
            title=_("Accept as an opportunity"),
            action="accept_as_opportunity",
            call=lambda s, data: services.suggestion_accept_as_opportunity(
                suggestion_id=s.pk, actor=request.user, **data
            ),
            done=_("Accepted; a draft opportunity was created for you to complete and publish."),
        )

    @admin.action(description=_("Decline with a reason"), permissions=["change"])
    def decline(self, request, queryset):
        return _confirm_then_run(
            self,
            request,
            queryset,
            form_class=DeclineForm,
            title=_("Decline suggestions"),
            action="decline",
            call=lambda s, data: services.suggestion_decline(suggestion_id=s.pk, actor=request.user, **data),
            done=("%(count)d suggestion declined.", "%(count)d suggestions declined."),
        )
