from django import forms
from django.utils.translation import gettext_lazy as _

from community_levels.models import BOSS_STATEMENT_MAX_LENGTH
from contributions.forms import text_limit_messages


class BossApplicationForm(forms.Form):
    statement = forms.CharField(
        label=_("Why do you want to join the Boss program?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=BOSS_STATEMENT_MAX_LENGTH,
        error_messages=text_limit_messages(BOSS_STATEMENT_MAX_LENGTH),
        help_text=_("A few sentences: what you help others with, and what you would like to do as a Boss."),
    )


class ActivityImportForm(forms.Form):
    file = forms.FileField(
        label=_("Activity file"), help_text=_("JSON Lines (.jsonl) or CSV (.csv) in the canonical event format.")
    )
