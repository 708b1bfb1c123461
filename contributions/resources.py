"""Import-export resources: the program-year report and certificates (export), requirement statuses (import)."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, widgets

from accounts.imports import LINE, REASON, parse_file_date
from accounts.models import User
from accounts.spreadsheets import FormulaSafeModelResource, FormulaSafeResource
from contributions import rules, selectors, services
from contributions.models import Audit, Certificate, Contribution, RequirementStatus, TechnicalRequirement


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
                f"{r.requirement.name}: {r.met_on.isoformat() if r.met_on else _('pending')}" for r in row.requirements
            )
            or None
        )

    def dehydrate_opted_out(self, row) -> str:
        return _("yes") if row.opt_out else _("no")


class ContributionExportResource(FormulaSafeModelResource):
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

    def export_field(self, field, instance, **kwargs):
        """The model's own values as they are (numbers, dates, times); the spreadsheet writer types them."""
        name = self.get_field_name(field)
        if name in self.RAW_FIELDS:
            return getattr(instance, name) or (0 if getattr(instance, name) == 0 else None)
        return super().export_field(field, instance, **kwargs)

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


def _cell(row, column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


class RequirementStatusResource(FormulaSafeModelResource):
    """Members' technical requirements, by member email and requirement code or name, both ways.

    Columns: year, requirement (code or name), member_email, met_on (YYYY-MM-DD, empty = pending),
    note, and on import an optional override_reason (a program admin's reason for a date after
    the due date). `requirement_id` is still understood instead of year + requirement. Each row is
    checked whole before anything is written; a bad row is reported with its line in the file and
    every reason, and the good rows can still be imported. Each good row goes through
    `requirement_status_set` (the status row's lock, the date rule, the actor in the history).
    """

    year = fields.Field(column_name="year")
    requirement = fields.Field(column_name="requirement")
    member_email = fields.Field(column_name="member_email")
    met_on = fields.Field(attribute="met_on", column_name="met_on", widget=widgets.DateWidget(coerce_to_string=False))
    note = fields.Field(attribute="note", column_name="note")

    class Meta:
        model = RequirementStatus
        fields = ("year", "requirement", "member_email", "met_on", "note")
        export_order = ("year", "requirement", "member_email", "met_on", "note")
        import_id_fields = ()
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        store_row_values = True
        skip_diff = True
        clean_model_instances = False

    # --- export ---

    def dehydrate_year(self, status: RequirementStatus) -> int:
        return status.requirement.program_year.year

    def dehydrate_requirement(self, status: RequirementStatus) -> str:
        return status.requirement.code or status.requirement.name

    def dehydrate_member_email(self, status: RequirementStatus) -> str:
        return status.member.email

    # --- import ---

    def before_import(self, dataset, **kwargs) -> None:
        self._user = kwargs.get("user")
        self._seen: dict[tuple[int, int], int] = {}
        headers = {str(h).strip() for h in (dataset.headers or [])}
        missing = {"member_email", "met_on"} - headers
        if not ({"year", "requirement"} <= headers or "requirement_id" in headers):
            missing.add("year, requirement")
        if missing:
            raise ValidationError(_("The file has no column %(columns)s.") % {"columns": ", ".join(sorted(missing))})
        requirements = list(TechnicalRequirement.objects.select_related("program_year"))
        self._requirements_by_id = {r.pk: r for r in requirements}
        self._requirements: dict[tuple[int, str], TechnicalRequirement] = {}
        for requirement in requirements:
            self._requirements[(requirement.program_year.year, requirement.name.lower())] = requirement
        for requirement in requirements:  # a code wins over another requirement's identical name
            if requirement.code:
                self._requirements[(requirement.program_year.year, requirement.code.lower())] = requirement
        emails = {_cell(dict(zip(dataset.headers, row, strict=False)), "member_email").lower() for row in dataset}
        self._members = {
            user.email.lower(): user for user in User.objects.annotate(lower=Lower("email")).filter(lower__in=emails)
        }

    def _requirement_of(self, row, errors: dict) -> TechnicalRequirement | None:
        if "requirement" not in row and "requirement_id" in row:
            key = _cell(row, "requirement_id")
            requirement = self._requirements_by_id.get(int(key)) if key.isdigit() else None
            if requirement is None:
                errors.setdefault("requirement_id", []).append(_("No requirement has the id “%(id)s”.") % {"id": key})
            return requirement
        year, name = _cell(row, "year"), _cell(row, "requirement")
        if not year.isdigit():
            errors.setdefault("year", []).append(_("“%(year)s” is not a program year.") % {"year": year})
            return None
        if not name:
            errors.setdefault("requirement", []).append(_("The requirement (its code or name) is missing."))
            return None
        requirement = self._requirements.get((int(year), name.lower()))
        if requirement is None:
            errors.setdefault("requirement", []).append(
                _("No requirement “%(name)s” in %(year)s: use its code or its exact name.")
                % {"name": name, "year": year}
            )
        return requirement

    def before_import_row(self, row, **kwargs) -> None:
        """Check the whole row before anything is written; every reason is reported at once."""
        line = row.get(LINE) or kwargs.get("row_number", 0) + 1  # line 1 is the header
        row[LINE] = line
        errors: dict[str, list[str]] = {}
        requirement = self._requirement_of(row, errors)
        email = _cell(row, "member_email").lower()
        member = self._members.get(email)
        if not email:
            errors.setdefault("member_email", []).append(_("The member's email is missing."))
        elif member is None:
            errors.setdefault("member_email", []).append(_("No member has the email %(email)s.") % {"email": email})
        try:
            met_on = parse_file_date(row.get("met_on"), required=False)
        except ValueError as error:
            errors.setdefault("met_on", []).append(str(error))
            met_on = None
        override_reason = _cell(row, "override_reason")
        if requirement is not None and "met_on" not in errors:
            refusal = services.requirement_date_refusal(
                requirement=requirement, met_on=met_on, by=self._user, override_reason=override_reason
            )
            if refusal:
                errors.setdefault("met_on", []).append(refusal)
        if requirement is not None and member is not None:
            first = self._seen.setdefault((requirement.pk, member.pk), line)
            if first != line:
                errors.setdefault("member_email", []).append(
                    _("Duplicate: %(email)s and this requirement are already on line %(line)s.")
                    % {"email": email, "line": first}
                )
        if errors:
            raise ValidationError(
                {
                    field: [_("Line %(line)s: %(error)s") % {"line": line, "error": e} for e in es]
                    for field, es in errors.items()
                }
            )
        existing = RequirementStatus.objects.filter(requirement=requirement, member=member).first()
        note = _cell(row, "note") or (existing.note if existing else "")
        row.update(
            _requirement=requirement,
            _member=member,
            _met_on=met_on,
            _note=note,
            _override=override_reason,
            _unchanged=existing is not None and (existing.met_on, existing.note) == (met_on, note),
        )
        if row["_unchanged"]:
            row[REASON] = _("Already recorded with this date and note.")

    def get_instance(self, instance_loader, row):
        return RequirementStatus.objects.filter(requirement=row["_requirement"], member=row["_member"]).first()

    def init_instance(self, row=None):
        return RequirementStatus(requirement=row["_requirement"], member=row["_member"])

    def import_instance(self, instance, row, **kwargs) -> None:
        instance.met_on = row["_met_on"]
        instance.note = row["_note"]

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        return row["_unchanged"]

    def save_instance(self, instance, is_create, row, **kwargs) -> None:
        try:
            saved = services.requirement_status_set(
                requirement=row["_requirement"],
                member=row["_member"],
                met_on=row["_met_on"],
                note=row["_note"],
                by=self._user,
                override_reason=row["_override"],
            )
        except services.ContributionError as error:
            raise ValidationError(_("Line %(line)s: %(error)s") % {"line": row["_line"], "error": error}) from error
        instance.pk = saved.pk

    def save_m2m(self, instance, row, **kwargs) -> None:
        return None


class CertificateResource(FormulaSafeModelResource):
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


class AuditResource(FormulaSafeModelResource):
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

    def export_field(self, field, instance, **kwargs):
        name = self.get_field_name(field)
        if name in self.RAW_FIELDS:
            return getattr(instance, name) or None
        return super().export_field(field, instance, **kwargs)

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
        from contributions.audit_services import risk_labels

        return "; ".join(risk_labels(audit.reasons)) or _("random floor only")

    def dehydrate_probability(self, audit: Audit) -> float:
        return round(audit.probability, 4)

    def dehydrate_state(self, audit: Audit) -> str:
        return audit.get_state_display()

    def dehydrate_concluded_by(self, audit: Audit) -> str | None:
        return audit.concluded_by.email if audit.concluded_by else None

    def dehydrate_run_seed(self, audit: Audit) -> int | None:
        return audit.run.seed if audit.run else None
