"""Members' requirement statuses, both ways: export, and the import that checks each row whole and
writes the good ones through `services.requirement_status_set`."""

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from import_export import fields, widgets

from accounts.imports import LINE, REASON, parse_file_date
from accounts.models import User
from accounts.spreadsheets import FormulaSafeModelResource, nul_cell_errors
from contributions import services
from contributions.models import RequirementStatus, TechnicalRequirement


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
        errors: dict[str, list[str]] = nul_cell_errors(row)
        requirement = None if errors else self._requirement_of(row, errors)
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
