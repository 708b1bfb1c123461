from datetime import date

import pytest
import tablib
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.errors import AccountError
from accounts.models import MACertification, Notification, Organization, User
from accounts.resources import NewlyCertifiedResource
from accounts.services import member_provision
from tests.factories import MACertificationFactory, OrganizationFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

CSV = (
    "email,first_name,last_name,certificate_number,qualified_on,organization\n"
    "nora@northwind.example,Nora,Lind,MA-1001,2026-03-02,\n"  # row 1: good
    ",Nobody,Here,MA-1002,2026-03-02,\n"  # row 2: no email
    "omar@example.com,Omar,Haddad,MA-1003,31/02/2026,\n"  # row 3: bad date
    "nora@northwind.example,Nora,Again,MA-1004,2026-03-02,\n"  # row 4: duplicate email
    "kenji@contoso.example,Kenji,Sato,MA-1005,2026-01-15,Contoso\n"  # row 5: good
)


def _dataset(text: str = CSV) -> tablib.Dataset:
    return tablib.Dataset().load(text, format="csv")


def test_member_provision_creates_account_certification_and_invitation(django_capture_on_commit_callbacks):
    org = OrganizationFactory(name="Northwind", domains=["northwind.example"])
    with django_capture_on_commit_callbacks(execute=True):
        user = member_provision(
            email="Nora@Northwind.example",
            first_name="Nora",
            last_name="Lind",
            certificate_number="MA-1",
            qualified_on=date(2026, 3, 2),
        )
    assert user.email == "nora@northwind.example"
    assert user.organization == org
    assert not user.has_usable_password()
    assert user.certification.certificate_number == "MA-1"
    invitation = Notification.objects.get(user=user, kind="account.invitation")
    assert invitation.email_url.startswith("/accounts/password/reset/key/")
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body
    # One number: the invitation names the certificate's own number (not the import's reference).
    certificate = user.certificates.get()
    assert certificate.number in mail.outbox[0].body and certificate.verification_code in mail.outbox[0].body


def test_invitation_under_sso_required_points_to_sso_not_a_password(django_capture_on_commit_callbacks):
    OrganizationFactory(
        name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED, domains=["contoso.example"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        user = member_provision(
            email="kenji@contoso.example",
            first_name="Kenji",
            last_name="Sato",
            certificate_number="MA-2",
            qualified_on=date(2026, 1, 1),
        )
    body = mail.outbox[0].body
    assert "/accounts/password/reset/key/" not in body
    assert "Priya Raman" in body
    assert Notification.objects.get(user=user).email_url.startswith("/accounts/login/?email=")


def test_member_provision_refuses_a_taken_certificate_and_saves_nothing(member):
    MACertificationFactory(user=member, certificate_number="MA-9")
    with pytest.raises(AccountError, match="MA-9 belongs to another member") as excinfo:
        member_provision(
            email="new@example.com",
            first_name="New",
            last_name="Person",
            certificate_number="MA-9",
            qualified_on=date(2026, 1, 1),
        )
    assert excinfo.value.field == "certificate_number"
    assert not User.objects.filter(email="new@example.com").exists()


def test_import_keeps_good_rows_and_reports_each_bad_row_with_its_number(django_capture_on_commit_callbacks):
    OrganizationFactory(name="Contoso", domains=["contoso.example"])
    with django_capture_on_commit_callbacks(execute=True):
        result = NewlyCertifiedResource().import_data(_dataset(), dry_run=False, use_transactions=True)
    assert not result.has_errors()
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3, 4}
    assert "missing" in " ".join(invalid[2]["email"])
    assert "31/02/2026" in " ".join(invalid[3]["qualified_on"])
    assert "line 2" in " ".join(invalid[4]["email"])  # its line in the file (line 1 is the header)
    assert set(User.objects.values_list("email", flat=True)) == {"nora@northwind.example", "kenji@contoso.example"}
    assert set(MACertification.objects.values_list("certificate_number", flat=True)) == {"MA-1001", "MA-1005"}
    assert User.objects.get(email="kenji@contoso.example").organization.name == "Contoso"
    assert len(mail.outbox) == 2


def test_reimporting_the_same_file_changes_nothing(django_capture_on_commit_callbacks):
    OrganizationFactory(name="Contoso", domains=["contoso.example"])
    NewlyCertifiedResource().import_data(_dataset(), dry_run=False, use_transactions=True)
    before = (User.objects.count(), MACertification.objects.count(), Notification.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        result = NewlyCertifiedResource().import_data(_dataset(), dry_run=False, use_transactions=True)
    assert result.totals["new"] == 0
    assert result.totals["skip"] == 2
    assert (User.objects.count(), MACertification.objects.count(), Notification.objects.count()) == before
    assert mail.outbox == []


def test_an_existing_member_with_another_certificate_is_reported_not_changed(member):
    MACertificationFactory(user=member, certificate_number="MA-OLD")
    text = f"email,first_name,last_name,certificate_number,qualified_on\n{member.email},Ava,Patel,MA-NEW,2026-01-01\n"
    result = NewlyCertifiedResource().import_data(_dataset(text), dry_run=False, use_transactions=True)
    assert [row.number for row in result.invalid_rows] == [1]
    assert member.certification.certificate_number == "MA-OLD"


def test_admin_preview_lists_bad_rows_then_confirm_imports_the_good_ones(client, program_admin):
    from allauth.mfa.totp.internal.auth import TOTP

    OrganizationFactory(name="Contoso", domains=["contoso.example"])
    TOTP.activate(program_admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(program_admin)
    upload = SimpleUploadedFile("new-mas.csv", CSV.encode(), content_type="text/csv")
    response = client.post(
        "/admin/accounts/macertification/import/",
        {"resource": "0", "format": "0", "import_file": upload},
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Issue 17 replaced "Some rows failed to validate" with every row, its line and its action.
    assert "2 new, 0 to update, 0 unchanged, 3 with errors" in html
    assert "2 rows will be imported" in html
    assert "31/02/2026" in html
    assert User.objects.filter(email="nora@northwind.example").count() == 0  # preview saves nothing
    confirm = response.context["confirm_form"]
    response = client.post(
        "/admin/accounts/macertification/process_import/",
        {name: confirm.initial.get(name, "") for name in confirm.fields},
    )
    assert response.status_code == 302
    assert User.objects.filter(email__in=["nora@northwind.example", "kenji@contoso.example"]).count() == 2


def test_admin_adds_one_newly_certified_ma(client, program_admin):
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(program_admin, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client.force_login(program_admin)
    data = {
        "email": "lucia@example.com",
        "first_name": "Lúcia",
        "last_name": "Ferreira",
        "certificate_number": "MA-77",
        "qualified_on": "2026-02-01",
    }
    response = client.post("/admin/accounts/macertification/provision/", data)
    assert response.status_code == 302
    assert User.objects.get(email="lucia@example.com").certification.certificate_number == "MA-77"
    response = client.post("/admin/accounts/macertification/provision/", data)
    assert response.status_code == 200
    assert "already has an account" in response.content.decode()


def test_a_nul_character_in_any_cell_is_a_bad_row_and_the_good_rows_stay(django_capture_on_commit_callbacks):
    """PostgreSQL text cannot hold NUL (0x00); found by the fuzz test: the row crashed the import."""
    text = (
        "email,first_name,last_name,certificate_number,qualified_on,organization\n"
        "nora@northwind.example,Nora,Lind,MA-1001,2026-03-02,\n"  # row 1: good
        "omar@example.com,Omar,Haddad,MA-\x001003,2026-03-02,\n"  # row 2: NUL in the certificate
        "kenji@example.com,Ken\x00ji,Sato,MA-1005,2026-01-15,\n"  # row 3: NUL in the first name
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = NewlyCertifiedResource().import_data(_dataset(text), dry_run=False, use_transactions=True)
    assert not result.has_errors(), [error.error for row in result.row_errors() for error in row[1]]
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3}
    assert "invisible NUL character" in " ".join(invalid[2]["certificate_number"])
    assert "invisible NUL character" in " ".join(invalid[3]["first_name"])
    assert set(User.objects.values_list("email", flat=True)) == {"nora@northwind.example"}


def test_adding_one_ma_names_every_problem_at_once(client, program_admin, member):
    """The walk: a form with the names left empty, an email that has an account, a number of the
    certificate form and a date in the future said only "This field is required." twice; the other three
    refusals came on the second try. Every field's problem is named on the first."""
    client.force_login(with_mfa(program_admin))
    response = client.post(
        "/admin/accounts/macertification/provision/",
        {"email": member.email, "certificate_number": "MA-2026-000123", "qualified_on": "2099-01-05"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"email", "first_name", "last_name", "certificate_number", "qualified_on"}
    assert "already has an account" in errors["email"][0]
    assert not User.objects.filter(certification__certificate_number="MA-2026-000123").exists()
