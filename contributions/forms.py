from django import forms
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contributions import selectors
from contributions.evidence import ACCEPTED, MAX_EVIDENCE_BYTES, evidence_check
from contributions.models import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH, ActivityType
from contributions.services import quantity_refusal, submission_refusal


def _limit_message(limit: int) -> str:
    return gettext("Keep this to at most %(limit)s characters (it has %%(show_value)s).") % {"limit": intcomma(limit)}


def text_limit_messages(limit: int) -> dict:
    """The form's side of a free-text limit (the model and a database CHECK hold the same number)."""
    return {"max_length": lazy(_limit_message, str)(limit)}


def id_from_input(value) -> int | None:
    """A primary key typed into a form or a URL: plain ASCII digits within a database integer, else None.

    `str.isdigit()` accepts "²" (which `int()` refuses); PostgreSQL refuses NUL and numbers past 2³¹.
    """
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number < 2**31 else None


class ActivityTypeChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        pk = id_from_input(value)
        if pk is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        try:
            return super().to_python(value)
        except ValidationError:
            # Say why a type is not offered (its year closed), not just "not a valid choice".
            known = ActivityType.objects.select_related("program_year").filter(pk=pk).first()
            if known is not None:
                refusal = submission_refusal(program_year=known.program_year, today=timezone.localdate())
                if refusal is not None:
                    raise ValidationError(refusal, code="closed") from None
            raise

    def label_from_instance(self, obj: ActivityType) -> str:
        cap = _(", capped at %(cap)s a year") % {"cap": obj.annual_cap} if obj.annual_cap else ""
        return f"{obj.program_year.year} · {obj.name} — {obj.points} {obj.get_unit_display()}{cap}"


class EvidenceFileForm(forms.Form):
    """A form with an `evidence_file` field: the file's real type is checked as the services check it."""

    def clean_evidence_file(self):
        file = self.cleaned_data.get("evidence_file")
        if file:
            try:
                evidence_check(file)
            except ValidationError as error:
                raise forms.ValidationError(error.messages) from error
        return file


class ContributionForm(EvidenceFileForm):
    """What the member tells us; the points are computed from the type, never typed."""

    activity_type = ActivityTypeChoiceField(
        label=_("Activity type"),
        queryset=ActivityType.objects.none(),
        empty_label=_("Choose what you did"),
        help_text=_("The catalogue lists what counts and what evidence each type needs."),
    )
    title = forms.CharField(
        label=_("Title"), max_length=TITLE_MAX_LENGTH, error_messages=text_limit_messages(TITLE_MAX_LENGTH)
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages=text_limit_messages(DESCRIPTION_MAX_LENGTH),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What you did, for whom, and the outcome."),
    )
    occurred_on = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The contribution counts toward the program year this date falls in."),
    )
    quantity = forms.DecimalField(
        label=_("Quantity"),
        min_value=0.25,
        max_digits=8,
        decimal_places=2,
        initial=1,
        help_text=_("Items or sessions as a whole number (1, 2, 3); hours may be split (1.5)."),
    )
    evidence_url = forms.URLField(label=_("Evidence link"), required=False, max_length=500, assume_scheme="https")
    evidence_file = forms.FileField(
        label=_("Evidence file"),
        required=False,
        help_text=_("%(types)s, at most %(size)s MB.") % {"types": ACCEPTED, "size": MAX_EVIDENCE_BYTES // 2**20},
    )

    def __init__(self, *args, asked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        activity_type = self.fields["activity_type"]
        assert isinstance(activity_type, forms.ModelChoiceField)  # declared above
        activity_type.queryset = selectors.activity_types_open_for_submission()
        if asked:  # the item needs information: resubmitting carries the member's answer
            self.fields["answer"] = forms.CharField(
                label=_("Your answer to the verifier"),
                required=False,
                max_length=DESCRIPTION_MAX_LENGTH,
                error_messages=text_limit_messages(DESCRIPTION_MAX_LENGTH),
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Needed to resubmit: the verifier reads it with your changes."),
            )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        activity_type, quantity = cleaned.get("activity_type"), cleaned.get("quantity")
        if activity_type is not None and quantity is not None:
            refusal = quantity_refusal(activity_type=activity_type, quantity=quantity)
            if refusal:
                self.add_error("quantity", refusal)
        return cleaned


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"),
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages={
            "required": _("Write your answer to the verifier's question before sending it."),
            **text_limit_messages(DESCRIPTION_MAX_LENGTH),
        },
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RequirementReportForm(EvidenceFileForm):
    """A training completed or a credential held, with the evidence the program team verifies."""

    met_on = forms.DateField(
        label=_("Completed or obtained on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    evidence_url = forms.URLField(
        label=_("Evidence link"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("A link to your certificate, badge or completion record."),
    )
    evidence_file = forms.FileField(
        label=_("Evidence file"),
        required=False,
        help_text=_("%(types)s, at most %(size)s MB.") % {"types": ACCEPTED, "size": MAX_EVIDENCE_BYTES // 2**20},
    )
    note = forms.CharField(
        label=_("Note for the program team (optional)"),
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        error_messages=text_limit_messages(DESCRIPTION_MAX_LENGTH),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OptOutForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you opting out? (optional)"),
        required=False,
        max_length=300,
        widget=forms.TextInput(),
    )


class AuditAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your evidence"),
        max_length=DESCRIPTION_MAX_LENGTH,
        help_text=_("What you did and where the evidence can be found."),
        error_messages={
            "required": _("Write what you did and where the evidence is before sending your answer."),
            **text_limit_messages(DESCRIPTION_MAX_LENGTH),
        },
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    evidence_url = forms.URLField(label=_("Link to the evidence (optional)"), required=False, max_length=500)
