from django import forms
from django.utils.translation import gettext_lazy as _

from contributions.forms import text_limit_messages
from contributions.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, ActivityType, ProgramYear
from engagements.models import Suggestion


class SuggestionForm(forms.ModelForm):
    class Meta:
        model = Suggestion
        fields = ["title", "description", "proposed_category", "why_it_matters"]
        help_texts = {
            "description": _("What would members do, and what would show it was done?"),
            "why_it_matters": _("How does it help customers, emerging talent, the brand or the enablement record?"),
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "why_it_matters": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {
            "title": text_limit_messages(TITLE_MAX_LENGTH),
            "description": text_limit_messages(DESCRIPTION_MAX_LENGTH),
            "why_it_matters": text_limit_messages(DESCRIPTION_MAX_LENGTH),
        }


# --- Staff forms of the admin's intermediate pages ---------------------------------------------


class ScheduleForm(forms.Form):
    next_steps = forms.CharField(label=_("Next steps"), widget=forms.Textarea(attrs={"rows": 4}))
    scheduled_for = forms.DateTimeField(
        label=_("Scheduled for"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the members signed up)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Each member with a live sign-up gets it by message and email."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (sent to the member)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stored on the sign-up and sent to the member by message and email."),
    )


class AcceptAsActivityTypeForm(forms.Form):
    program_year = forms.ModelChoiceField(ProgramYear.objects.all(), label=_("Program year"))
    code = forms.SlugField(label=_("Code"), max_length=64)
    category = forms.ChoiceField(choices=ActivityType.Category.choices, label=_("Category"))
    points = forms.IntegerField(min_value=1, label=_("Points"))
    tracking = forms.ChoiceField(choices=ActivityType.Tracking.choices, label=_("Tracking"))
    note = forms.CharField(label=_("Note to the member"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AcceptAsOpportunityForm(forms.Form):
    activity_type = forms.ModelChoiceField(
        ActivityType.objects.filter(tracking=ActivityType.Tracking.ENGAGEMENT).select_related("program_year"),
        label=_("Activity type credited"),
    )
    slug = forms.SlugField(label=_("Slug of the new opportunity"), max_length=120)
    points = forms.IntegerField(min_value=1, label=_("Points"))
    note = forms.CharField(label=_("Note to the member"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class DeclineForm(forms.Form):
    reason = forms.CharField(label=_("Reason (shown to the member)"), widget=forms.Textarea(attrs={"rows": 3}))
