"""Import-export resources: the program-year report and certificates (export), requirement statuses (import)."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from import_export import fields, resources, widgets

from accounts.models import User
from contributions import services
from contributions.models import Certificate, RequirementStatus, TechnicalRequirement


class MemberYearReportResource(resources.Resource):
    """One row per member of a program year (rows are selectors.MemberYear objects)."""

    email = fields.Field(attribute="member__email", column_name="email")
    name = fields.Field(column_name="name")
    qualified_on = fields.Field(attribute="qualified_on", column_name="qualified_on", widget=widgets.DateWidget())
    target = fields.Field(attribute="target_points", column_name="target")
    target_reason = fields.Field(attribute="target_explanation", column_name="target_reason")
    verified = fields.Field(attribute="verified", column_name="verified")
    pending = fields.Field(attribute="pending", column_name="pending")
    over_cap = fields.Field(attribute="excess", column_name="over_cap")
    status = fields.Field(attribute="status", column_name="status")
    requirements = fields.Field(column_name="technical_requirements")
    opted_out = fields.Field(column_name="opted_out")

    class Meta:
        export_order = (
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

    def dehydrate_name(self, row) -> str:
        return row.member.get_full_name()

    def dehydrate_requirements(self, row) -> str:
        return "; ".join(
            f"{r.requirement.name}: {r.met_on.isoformat() if r.met_on else 'pending'}" for r in row.requirements
        )

    def dehydrate_opted_out(self, row) -> str:
        return "yes" if row.opt_out else "no"


class RequirementStatusResource(resources.ModelResource):
    """Staff import members' technical requirements: requirement id, member email, met on (blank = pending)."""

    requirement = fields.Field(
        attribute="requirement",
        column_name="requirement_id",
        widget=widgets.ForeignKeyWidget(TechnicalRequirement, "pk"),
    )
    member = fields.Field(
        attribute="member", column_name="member_email", widget=widgets.ForeignKeyWidget(User, "email")
    )
    met_on = fields.Field(attribute="met_on", column_name="met_on", widget=widgets.DateWidget())
    note = fields.Field(attribute="note", column_name="note")

    class Meta:
        model = RequirementStatus
        fields = ("requirement", "member", "met_on", "note")
        import_id_fields = ("requirement", "member")
        skip_unchanged = True
        report_skipped = False

    def do_instance_save(self, instance: RequirementStatus, is_create: bool) -> None:
        saved = services.requirement_status_set(
            requirement=instance.requirement, member=instance.member, met_on=instance.met_on, note=instance.note or ""
        )
        instance.pk = saved.pk


class CertificateResource(resources.ModelResource):
    """Bulk export of certificates (CSV/XLSX), one row each, replaced and revoked ones included."""

    holder = fields.Field(column_name="holder")
    email = fields.Field(attribute="member__email", column_name="email")
    status = fields.Field(column_name="status")
    public_page = fields.Field(column_name="public_page")
    replaced_by = fields.Field(column_name="replaced_by")

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

    def dehydrate_holder(self, certificate: Certificate) -> str:
        return certificate.member.get_full_name() or certificate.member.email

    def dehydrate_status(self, certificate: Certificate) -> str:
        return str(Certificate.Status(certificate.status_on(timezone.localdate())).label)

    def dehydrate_public_page(self, certificate: Certificate) -> str:
        return f"{settings.SITE_URL}{reverse('certificate_verify', args=[certificate.verification_code])}"

    def dehydrate_replaced_by(self, certificate: Certificate) -> str:
        return certificate.superseded_by.verification_code if certificate.superseded_by_id else ""
