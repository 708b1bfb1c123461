"""Import of newly certified MAs (CSV or XLSX) through django-import-export.

Each good row goes through `member_provision` (account, certification, invitation) in its own
savepoint; a bad row is reported with its row number and every reason, and is never half-saved.
A row whose email already has an account with the same certificate is skipped, so importing the
same file twice changes nothing.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _
from import_export import fields

from accounts import selectors
from accounts.errors import AccountError
from accounts.imports import LINE, REASON, parse_file_date
from accounts.models import MACertification, Organization, User
from accounts.services import certification_number_problem, member_provision, qualification_date_problem
from accounts.spreadsheets import FormulaSafeModelResource, nul_cell_errors


class NewlyCertifiedResource(FormulaSafeModelResource):
    email = fields.Field(attribute="email", column_name="email")
    first_name = fields.Field(attribute="first_name", column_name="first_name")
    last_name = fields.Field(attribute="last_name", column_name="last_name")
    certificate_number = fields.Field(attribute="import_certificate_number", column_name="certificate_number")
    qualified_on = fields.Field(attribute="import_qualified_on", column_name="qualified_on")
    organization = fields.Field(attribute="import_organization", column_name="organization")

    class Meta:
        model = User
        fields = ("email", "first_name", "last_name", "certificate_number", "qualified_on", "organization")
        import_id_fields = ("email",)
        use_transactions = True
        skip_unchanged = True
        report_skipped = True
        skip_diff = True
        clean_model_instances = False
        store_row_values = True

    def before_import(self, dataset, **kwargs) -> None:
        self._emails_seen: dict[str, int] = {}
        self._certificates_seen: dict[str, int] = {}
        self._already_provisioned: set[str] = set()
        self._organizations = {o.name.lower(): o for o in Organization.objects.all()}
        missing = {"email", "certificate_number", "qualified_on"} - set(dataset.headers or [])
        if missing:
            raise ValidationError(_("The file has no column %(columns)s.") % {"columns": ", ".join(sorted(missing))})

    def before_import_row(self, row, **kwargs) -> None:
        """Validate the whole row before anything is written; every reason is reported at once."""
        number = row.get(LINE) or kwargs.get("row_number", 0) + 1  # line 1 is the header
        errors: dict[str, list[str]] = nul_cell_errors(row)
        if errors:
            raise ValidationError(errors)
        email = User.objects.normalize_email(str(row.get("email") or "").strip()).lower()
        row["email"] = email
        certificate_number = str(row.get("certificate_number") or "").strip()
        row["certificate_number"] = certificate_number
        if not email:
            errors.setdefault("email", []).append(_("The email is missing."))
        elif "@" not in email:
            errors.setdefault("email", []).append(_("“%(email)s” is not an email address.") % {"email": email})
        elif email in self._emails_seen:
            errors.setdefault("email", []).append(
                _("Duplicate: %(email)s is already on line %(row)s of this file.")
                % {"email": email, "row": self._emails_seen[email]}
            )
        else:
            self._emails_seen[email] = number
        try:
            row["qualified_on"] = parse_file_date(row.get("qualified_on"), required=True)
        except ValueError as exc:
            errors.setdefault("qualified_on", []).append(str(exc))
        else:
            date_problem = qualification_date_problem(qualified_on=row["qualified_on"])
            if date_problem:
                errors.setdefault("qualified_on", []).append(date_problem)
        if not certificate_number:
            errors.setdefault("certificate_number", []).append(_("The certificate number is missing."))
        elif certificate_number in self._certificates_seen:
            errors.setdefault("certificate_number", []).append(
                _("Duplicate: certificate %(number)s is already on line %(row)s of this file.")
                % {"number": certificate_number, "row": self._certificates_seen[certificate_number]}
            )
        else:
            self._certificates_seen[certificate_number] = number
        organization_name = str(row.get("organization") or "").strip()
        if organization_name and organization_name.lower() not in self._organizations:
            errors.setdefault("organization", []).append(
                _("There is no organization named “%(name)s”.") % {"name": organization_name}
            )
        if not errors and email:
            self._check_against_existing(row, email, certificate_number, errors)
        if errors:
            raise ValidationError(errors)

    def _check_against_existing(self, row, email: str, certificate_number: str, errors: dict) -> None:
        existing = selectors.user_by_email(email=email)
        holder = MACertification.objects.filter(certificate_number=certificate_number).select_related("user").first()
        if existing is not None:
            if holder is not None and holder.user_id == existing.pk:
                self._already_provisioned.add(email)
                row[REASON] = _("%(email)s already has this certificate.") % {"email": email}
                return
            errors.setdefault("email", []).append(
                _("%(email)s already has an account with a different certificate.") % {"email": email}
            )
        if holder is not None:
            errors.setdefault("certificate_number", []).append(
                _("Certificate %(number)s belongs to another member (%(email)s).")
                % {"number": certificate_number, "email": holder.user.email}
            )
            return
        problem = certification_number_problem(number=certificate_number, holder=existing)
        if problem:
            errors.setdefault("certificate_number", []).append(problem)

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        # Values are validated in before_import_row; set them without widget conversion.
        if field.attribute and field.column_name in row:
            setattr(instance, field.attribute, row[field.column_name])

    def skip_row(self, instance, original, row, import_validation_errors=None) -> bool:
        return row["email"] in self._already_provisioned

    def save_instance(self, instance, is_create, row, **kwargs) -> None:
        organization_name = str(row.get("organization") or "").strip().lower()
        try:
            user = member_provision(
                email=row["email"],
                first_name=str(row.get("first_name") or ""),
                last_name=str(row.get("last_name") or ""),
                certificate_number=row["certificate_number"],
                qualified_on=row["qualified_on"],
                organization=self._organizations.get(organization_name) if organization_name else None,
            )
        except AccountError as error:
            # import-export reports a row's ValidationError beside its line (a member added meanwhile).
            raise ValidationError({error.field or NON_FIELD_ERRORS: [str(error)]}) from error
        instance.pk = user.pk

    def save_m2m(self, instance, row, **kwargs) -> None:
        return None
