"""Export of sign-ups (CSV/XLSX from the admin's list, with its filters): who, for what, when, in words."""

from datetime import date, datetime

from django.utils.translation import gettext as _
from import_export import fields

from accounts.spreadsheets import FormulaSafeModelResource
from contributions.models import ProgramYear
from contributions.selectors import current_certificate_number
from engagements.models import SignUp


class SignUpExportResource(FormulaSafeModelResource):
    """One row per sign-up. The program year is the one the engagement's date falls in (the year whose
    catalogue completing it credits), else the year of the opportunity's activity type."""

    program_year = fields.Field(column_name="program_year")
    opportunity = fields.Field(column_name="opportunity")
    member = fields.Field(column_name="member")
    email = fields.Field(column_name="email")
    certificate_number = fields.Field(column_name="certificate_number")
    state = fields.Field(column_name="state")
    signed_up_at = fields.Field(column_name="signed_up_at")
    engagement_on = fields.Field(column_name="engagement_on")
    completed_at = fields.Field(column_name="completed_at")
    ended_at = fields.Field(column_name="ended_at")
    end_reason = fields.Field(column_name="end_reason")
    end_note = fields.Field(column_name="end_note")

    class Meta:
        model = SignUp
        fields = (
            "id",
            "program_year",
            "opportunity",
            "member",
            "email",
            "certificate_number",
            "state",
            "signed_up_at",
            "engagement_on",
            "completed_at",
            "ended_at",
            "end_reason",
            "end_note",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return (
            queryset.select_related("opportunity__activity_type__program_year", "member")
            .annotate(current_certificate_number=current_certificate_number(member_ref="member_id"))
            .order_by("opportunity__title", "created_at", "pk")
        )

    def before_export(self, queryset, **kwargs) -> None:
        self._years = list(ProgramYear.objects.order_by("opens_on").values_list("year", "opens_on", "deadline"))

    def after_export(self, queryset, dataset, **kwargs) -> None:
        dataset.title = _("Sign-ups")

    def dehydrate_id(self, signup: SignUp) -> int:
        return signup.pk

    def _when(self, signup: SignUp) -> datetime | None:
        return signup.scheduled_for or signup.opportunity.starts_at

    def dehydrate_program_year(self, signup: SignUp) -> int:
        when = self._when(signup)
        if when is not None:
            day: date = when.date()
            for year, opens_on, deadline in self._years:
                if opens_on <= day < deadline:
                    return year
        return signup.opportunity.activity_type.program_year.year

    def dehydrate_opportunity(self, signup: SignUp) -> str:
        return signup.opportunity.title

    def dehydrate_member(self, signup: SignUp) -> str:
        return signup.member.get_full_name() or signup.member.email

    def dehydrate_email(self, signup: SignUp) -> str:
        return signup.member.email

    def dehydrate_certificate_number(self, signup: SignUp) -> str | None:
        return getattr(signup, "current_certificate_number", None)

    def dehydrate_state(self, signup: SignUp) -> str:
        return signup.get_state_display()

    def dehydrate_signed_up_at(self, signup: SignUp) -> datetime:
        return signup.created_at

    def dehydrate_engagement_on(self, signup: SignUp) -> datetime | None:
        return self._when(signup)

    def dehydrate_completed_at(self, signup: SignUp) -> datetime | None:
        return signup.completed_at

    def dehydrate_ended_at(self, signup: SignUp) -> datetime | None:
        return signup.ended_at

    def dehydrate_end_reason(self, signup: SignUp) -> str | None:
        return signup.get_end_reason_display() if signup.end_reason else None

    def dehydrate_end_note(self, signup: SignUp) -> str | None:
        return signup.end_note or None
