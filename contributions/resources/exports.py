"""Export resources: the program-year report, the contributions list, certificates and audits (typed
values, states in words)."""

from datetime import date

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields

from accounts.spreadsheets import FormulaSafeModelResource, FormulaSafeResource
from contributions import rules, selectors
from contributions.models import Audit, Certificate, Contribution


class MemberYearReportResource(FormulaSafeResource):
    """One row per member of a program year (rows are selectors.MemberYear objects).

    Values stay typed (numbers, dates) so the XLSX has real numbers and dates (`accounts.exports`);
    the status is in words, as on the page.
    """

    program_year = fields.Field(column_name="program_year")
    certificate_number = fields.Field(column_name="certificate_number")
    legacy_number = fields.Field(column_name="legacy_number")
    email = fields.Field(attribute="member__email", column_name="email")
    name = fields.Field(column_name="name")
    qualified_on = fields.Field(attribute="qualified_on", column_name="qualified_on")
    target = fields.Field(attribute="target_points", column_name="target")
    target_reason = fields.Field(attribute="target_explanation", column_name="target_reason")
    verified = fields.Field(attribute="verified", column_name="verified")
    pending = fields.Field(attribute="pending", column_name="pending")
    over_cap = fields.Field(attribute="excess", column_name="over_cap")
    status = fields.Field(column_name="status")
    requirements = fields.Field(column_name="technical_requirements")
    opted_out = fields.Field(column_name="opted_out")

    class Meta:
        export_order = (
            "program_year",
            "certificate_number",
            "legacy_number",
            "email",
            "name",
            "qualified_on",
            "target",
            "target_reason",
            "verified",
            "pending",
            "over_cap",
            "status",
            "requirements",
            "opted_out",
        )

    def dehydrate_program_year(self, row) -> int:
        return row.program_year.year

    def dehydrate_certificate_number(self, row) -> str | None:
        """The current certificate's number (members from `selectors.eligible_members` carry it)."""
        return getattr(row.member, "current_certificate_number", None)

    def dehydrate_legacy_number(self, row) -> str | None:
        """The reference typed when the person was provisioned or imported, kept for old records."""
        certification = getattr(row.member, "certification", None)
        return certification.certificate_number if certification else None

    def dehydrate_name(self, row) -> str:
        return row.member.get_full_name()

    def dehydrate_qualified_on(self, row) -> date | None:
        return row.qualified_on

    def dehydrate_target(self, row) -> int:
        return row.target_points

    def dehydrate_verified(self, row) -> int:
        return row.verified

    def dehydrate_pending(self, row) -> int:
        return row.pending

    def dehydrate_over_cap(self, row) -> int:
        return row.excess

    def dehydrate_status(self, row) -> str:
        return rules.status_label(row.status)

    def dehydrate_requirements(self, row) -> str | None:
        return (
            "; ".join(
                f"{r.requirement.name}: {r.met_on.isoformat() if r.met_on else r.progress_label}"
                for r in row.requirements
            )
            or None
        )

    def dehydrate_opted_out(self, row) -> str:
        return _("yes") if row.opt_out else _("no")


class NativeValuesModelResource(FormulaSafeModelResource):
    """A model's export whose RAW_FIELDS keep the model's own values (numbers, dates, times; a declared
    field's `attribute`, else the field of that name), which the spreadsheet writer types; an empty value
    is an empty cell."""

    RAW_FIELDS: frozenset[str] = frozenset()

    def export_field(self, field, instance, **kwargs):
        name = self.get_field_name(field)
        if name in self.RAW_FIELDS:
            value = getattr(instance, field.attribute or name)
            return None if value is None or value == "" else value
        return super().export_field(field, instance, **kwargs)


class ContributionExportResource(NativeValuesModelResource):
    """The contributions of the admin's list (its filters and search applied), typed and in words."""

    program_year = fields.Field(column_name="program_year")
    certificate_number = fields.Field(column_name="certificate_number")
    member = fields.Field(column_name="member")
    email = fields.Field(column_name="email")
    activity_type = fields.Field(column_name="activity_type")
    category = fields.Field(column_name="category")
    state = fields.Field(column_name="state")
    source = fields.Field(column_name="source")
    decided_by = fields.Field(column_name="decided_by")

    class Meta:
        model = Contribution
        fields = (
            "id",
            "program_year",
            "certificate_number",
            "member",
            "email",
            "activity_type",
            "category",
            "title",
            "occurred_on",
            "quantity",
            "claimed_points",
            "awarded_points",
            "state",
            "submitted_at",
            "decided_at",
            "decided_by",
            "decision_note",
            "source",
        )
        export_order = fields

    RAW_FIELDS = frozenset(
        (
            "id",
            "title",
            "occurred_on",
            "quantity",
            "claimed_points",
            "awarded_points",
            "submitted_at",
            "decided_at",
            "decision_note",
        )
    )

    def filter_export(self, queryset, **kwargs):
        return (
            queryset.select_related("member", "program_year", "activity_type", "decided_by")
            .annotate(current_certificate_number=selectors.current_certificate_number(member_ref="member_id"))
            .order_by("submitted_at", "pk")
        )

    def after_export(self, queryset, dataset, **kwargs) -> None:
        dataset.title = _("Contributions")

    def dehydrate_program_year(self, contribution: Contribution) -> int:
        return contribution.program_year.year

    def dehydrate_certificate_number(self, contribution: Contribution) -> str | None:
        return getattr(contribution, "current_certificate_number", None)

    def dehydrate_member(self, contribution: Contribution) -> str:
        return contribution.member.get_full_name() or contribution.member.email

    def dehydrate_email(self, contribution: Contribution) -> str:
        return contribution.member.email

    def dehydrate_activity_type(self, contribution: Contribution) -> str:
        return contribution.activity_type.name

    def dehydrate_category(self, contribution: Contribution) -> str:
        return contribution.activity_type.get_category_display()

    def dehydrate_state(self, contribution: Contribution) -> str:
        return contribution.get_state_display()

    def dehydrate_source(self, contribution: Contribution) -> str:
        return contribution.get_source_display()

    def dehydrate_decided_by(self, contribution: Contribution) -> str | None:
        return contribution.decided_by.get_full_name() if contribution.decided_by else None


class CertificateResource(NativeValuesModelResource):
    """Bulk export of certificates (CSV/XLSX), one row each, replaced and revoked ones included."""

    holder = fields.Field(column_name="holder")
    email = fields.Field(attribute="member__email", column_name="email")
    status = fields.Field(column_name="status")
    public_page = fields.Field(column_name="public_page")
    replaced_by = fields.Field(column_name="replaced_by")
    # The last day it is valid, as every page shows it (the stored `valid_until` is the day after).
    valid_until = fields.Field(attribute="last_valid_day", column_name="valid_until")

    class Meta:
        model = Certificate
        fields = (
            "number",
            "holder",
            "email",
            "year",
            "source",
            "valid_from",
            "valid_until",
            "issued_at",
            "status",
            "revoked_at",
            "revoked_reason",
            "superseded_at",
            "replaced_by",
            "correction",
            "is_public",
            "public_page",
        )
        export_order = fields

    RAW_FIELDS = frozenset(("year", "valid_from", "valid_until", "issued_at", "revoked_at", "superseded_at"))

    def dehydrate_holder(self, certificate: Certificate) -> str:
        return certificate.member.get_full_name() or certificate.member.email

    def dehydrate_status(self, certificate: Certificate) -> str:
        return str(Certificate.Status(certificate.status_on(timezone.localdate())).label)

    def dehydrate_public_page(self, certificate: Certificate) -> str:
        return f"{settings.SITE_URL}{reverse('certificate_verify', args=[certificate.verification_code])}"

    def dehydrate_replaced_by(self, certificate: Certificate) -> str:
        return certificate.superseded_by.verification_code if certificate.superseded_by is not None else ""


class AuditResource(NativeValuesModelResource):
    """The audits: which claim, why it was chosen (in words), its chance, and what came of it."""

    program_year = fields.Field(column_name="program_year")
    member = fields.Field(column_name="member")
    email = fields.Field(column_name="email")
    contribution = fields.Field(column_name="contribution")
    activity_type = fields.Field(column_name="activity_type")
    awarded_points = fields.Field(column_name="awarded_points")
    reasons = fields.Field(column_name="reasons")
    probability = fields.Field(column_name="chance")
    state = fields.Field(column_name="state")
    concluded_by = fields.Field(column_name="concluded_by")
    run_seed = fields.Field(column_name="run_seed")

    class Meta:
        model = Audit
        fields = (
            "id",
            "program_year",
            "member",
            "email",
            "contribution",
            "activity_type",
            "awarded_points",
            "reasons",
            "probability",
            "requested_at",
            "evidence_due_on",
            "state",
            "answered_at",
            "concluded_at",
            "concluded_by",
            "outcome_note",
            "run_seed",
        )
        export_order = fields

    RAW_FIELDS = frozenset(("id", "requested_at", "evidence_due_on", "answered_at", "concluded_at", "outcome_note"))

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related(
            "contribution__member", "contribution__program_year", "contribution__activity_type", "concluded_by", "run"
        ).order_by("requested_at", "pk")

    def after_export(self, queryset, dataset, **kwargs) -> None:
        dataset.title = _("Audits")

    def dehydrate_program_year(self, audit: Audit) -> int:
        return audit.contribution.program_year.year

    def dehydrate_member(self, audit: Audit) -> str:
        return audit.contribution.member.get_full_name() or audit.contribution.member.email

    def dehydrate_email(self, audit: Audit) -> str:
        return audit.contribution.member.email

    def dehydrate_contribution(self, audit: Audit) -> str:
        return audit.contribution.title

    def dehydrate_activity_type(self, audit: Audit) -> str:
        return audit.contribution.activity_type.name

    def dehydrate_awarded_points(self, audit: Audit) -> int | None:
        return audit.contribution.awarded_points

    def dehydrate_reasons(self, audit: Audit) -> str:
        from contributions.services.audits import risk_labels

        return "; ".join(risk_labels(audit.reasons)) or _("random floor only")

    def dehydrate_probability(self, audit: Audit) -> float:
        return round(audit.probability, 4)

    def dehydrate_state(self, audit: Audit) -> str:
        return audit.get_state_display()

    def dehydrate_concluded_by(self, audit: Audit) -> str | None:
        return audit.concluded_by.email if audit.concluded_by else None

    def dehydrate_run_seed(self, audit: Audit) -> int | None:
        return audit.run.seed if audit.run else None
