"""Messages to a segment of members: the compose page the roster and the year report share, and the record."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.errors import AccountError
from accounts.models import (
    SegmentMessage,
    SegmentMessageRecipient,
)
from mahome.errors import show_refusal


class SegmentMessageForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"class": "vTextField"}))
    body = forms.CharField(
        label=_("Message"),
        widget=forms.Textarea(attrs={"rows": 10, "class": "vLargeTextField"}),
        help_text=_("Sent as written, in MA Home and by email (per each member's email preferences)."),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)


def segment_message_compose(
    request, *, admin_site, members: list, segment: str, back_url: str, hidden: dict
) -> HttpResponse:
    """The compose page of a message to members (the roster's action, the year report's button).

    Shows how many members will get it and who; sending calls `services.segment_message_send`, then
    returns to `back_url` (None from an admin action: back to the list it came from).
    """
    refusal = services.segment_message_refusal(author=request.user)
    if refusal:
        raise PermissionDenied(refusal)
    sending = request.method == "POST" and request.POST.get("send") == "yes"
    form = SegmentMessageForm(request.POST if sending else None, initial={"token": uuid.uuid4().hex})
    if sending and form.is_valid():
        try:
            message = services.segment_message_send(
                author=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                recipients=members,
                segment=segment,
                request_token=form.cleaned_data["token"],
            )
        except AccountError as error:
            show_refusal(request, error, form=form)
        else:
            messages.success(
                request,
                ngettext(
                    "Your message was sent to %(n)d member.", "Your message was sent to %(n)d members.", len(members)
                )
                % {"n": message.recipient_count},
            )
            return redirect(back_url)
    hidden_fields = [(name, value) for name, values in hidden.items() for value in _as_list(values)]
    context = {
        **admin_site.each_context(request),
        "title": _("Message members"),
        "form": form,
        "members": members[:200],
        "more": max(0, len(members) - 200),
        "count": len(members),
        "segment": segment,
        "hidden_fields": hidden_fields,
        "back_url": back_url,
        "opts": SegmentMessage._meta,
    }
    return TemplateResponse(request, "admin/accounts/segmentmessage/compose.html", context)


def _as_list(values) -> list:
    return values if isinstance(values, list) else [values]


class SegmentMessageRecipientInline(admin.TabularInline):
    model = SegmentMessageRecipient
    fields = readonly_fields = ("user", "member_email", "email_state")
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "notification")

    @admin.display(description=_("email address"))
    def member_email(self, obj) -> str:
        return obj.user.email

    @admin.display(description=_("email"))
    def email_state(self, obj) -> str:
        return obj.notification.get_email_state_display() if obj.notification else "—"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SegmentMessage)
class SegmentMessageAdmin(admin.ModelAdmin):
    """Messages sent to members (from the roster or the year report): read-only, with every recipient."""

    list_display = ["title", "segment", "recipient_count", "author", "sent_at"]
    list_select_related = ["author"]
    search_fields = ["title", "body", "segment"]
    date_hierarchy = "sent_at"
    fields = readonly_fields = ("title", "body", "segment", "author", "sent_at", "recipient_count")
    inlines = [SegmentMessageRecipientInline]

    def has_add_permission(self, request) -> bool:
        return False  # written from the roster or the report, where the members are chosen

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a record of what members were told
