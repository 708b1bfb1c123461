"""A number names one person: a certification's number (typed at provisioning, import or in its change
form) never takes the form of the certificate numbers MA Home issues (MA-<year>-<six-digit member
number>), so it can be neither another member's certificate number nor a future one, and no two
certifications share one. PostgreSQL holds both rules; every writer asks the one rule
(`accounts.services.certification_number_problem`) for the words.

A qualification date is plausible: not in the future, not before the program could have certified
anyone (`accounts.models.FIRST_QUALIFICATION_DAY`)."""

import threading
from datetime import date

import pytest
import tablib
import time_machine
from django.db import IntegrityError, transaction

from accounts.errors import AccountError
from accounts.models import FIRST_QUALIFICATION_DAY, MACertification, User
from accounts.resources import NewlyCertifiedResource
from accounts.services import member_provision
from contributions.models import Certificate
from tests.factories import MACertificationFactory, UserFactory
from tests.helpers import held_open, with_mfa

pytestmark = pytest.mark.django_db

PROVISION = "/admin/accounts/macertification/provision/"
ROSTER = "/admin/accounts/macertification/"


def _provision_data(**overrides) -> dict:
    return {
        "email": "ab@example.com",
        "first_name": "A",
        "last_name": "B",
        "certificate_number": "MA-2026-0777",
        "qualified_on": "2026-03-02",
        **overrides,
    }


@pytest.fixture
def ava(db):
    """Ava, certified in 2026: her certificate carries MA-2026-<her member number>."""
    with time_machine.travel(date(2026, 5, 1), tick=False):
        user = member_provision(
            email="ava@example.com",
            first_name="Ava",
            last_name="Patel",
            certificate_number="MA-2026-0203",
            qualified_on=date(2026, 3, 11),
        )
    (certificate,) = Certificate.objects.filter(member=user)
    assert certificate.number == f"MA-2026-{user.pk:06d}"
    return user


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_provision_page_shows_the_reserved_number_form_readably(client, program_admin):
    # The admin renders help text as HTML: a form written "MA-<year>-<...>" showed as "MA--".
    client.force_login(with_mfa(program_admin))
    html = client.get(PROVISION).content.decode()
    assert "MA-2026-000123 (MA-year-member number of six digits)" in html
    assert "MA--" not in html


def test_the_provision_page_refuses_another_members_certificate_number_in_words(client, program_admin, ava):
    number = Certificate.objects.get(member=ava).number
    client.force_login(with_mfa(program_admin))
    response = client.post(PROVISION, _provision_data(certificate_number=number))
    assert response.status_code == 200
    (error,) = response.context["form"].errors["certificate_number"]
    assert number in error and "Ava Patel" in error and "MA-<year>-" in error
    assert not User.objects.filter(email="ab@example.com").exists()


@time_machine.travel(date(2026, 5, 1), tick=False)
@pytest.mark.parametrize(
    "number", ["MA-2026-000999", "ma-2031-000042", " MA-2026-1000000 ", "MA-2026-99999999999999999999999"]
)
def test_the_certificate_number_form_is_refused_even_before_a_certificate_has_it(number):
    """The numbers are derived from member numbers: a typed one would be a later member's certificate number."""
    with pytest.raises(AccountError, match="MA-<year>-") as refused:
        member_provision(
            email="ab@example.com",
            first_name="A",
            last_name="B",
            certificate_number=number,
            qualified_on=date(2026, 3, 2),
        )
    assert refused.value.field == "certificate_number"
    assert not User.objects.filter(email="ab@example.com").exists()


def test_postgresql_refuses_a_certification_number_in_the_certificate_form(member):
    with pytest.raises(IntegrityError, match="certification_number_not_a_certificate_number"), transaction.atomic():
        MACertification.objects.create(user=member, certificate_number="MA-2026-000001", qualified_on=date(2026, 1, 5))


def test_postgresql_refuses_a_certificate_number_outside_its_form(member):
    with pytest.raises(IntegrityError, match="certificate_number_form"), transaction.atomic():
        Certificate.objects.create(
            member=member, year=2026, number="MA-0042", valid_from=date(2026, 1, 1), valid_until=date(2027, 1, 1)
        )


def test_the_import_refuses_a_row_with_a_certificate_number_and_keeps_the_good_rows(ava):
    number = Certificate.objects.get(member=ava).number
    text = (
        "email,first_name,last_name,certificate_number,qualified_on\n"
        f"ab@example.com,A,B,{number},2026-03-02\n"
        "cd@example.com,C,D,MA-2026-0778,2026-03-02\n"
    )
    with time_machine.travel(date(2026, 5, 1), tick=False):
        result = NewlyCertifiedResource().import_data(
            tablib.Dataset().load(text, format="csv"), dry_run=False, use_transactions=True
        )
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {1}
    assert "Ava Patel" in " ".join(invalid[1]["certificate_number"])
    assert set(User.objects.filter(email__in=["ab@example.com", "cd@example.com"]).values_list("email", flat=True)) == {
        "cd@example.com"
    }


def _change_form(certification: MACertification) -> str:
    return f"/admin/accounts/macertification/{certification.pk}/change/"


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_change_form_asks_the_same_rule_and_saves_through_it(client, program_admin, ava, other_member):
    other = MACertificationFactory(user=other_member, certificate_number="MA-2025-0100", qualified_on=date(2025, 6, 1))
    number = Certificate.objects.get(member=ava).number
    client.force_login(with_mfa(program_admin))
    for typed, words in [
        (number, "Ava Patel"),
        ("MA-2026-0203", "belongs to another member"),
    ]:
        response = client.post(
            _change_form(other), {"certificate_number": typed, "qualified_on": "2025-06-01"}, follow=True
        )
        assert response.status_code == 200
        assert words in " ".join(response.context["adminform"].form.errors["certificate_number"])
    response = client.post(_change_form(other), {"certificate_number": "MA-2025-0101", "qualified_on": "1900-01-01"})
    assert response.status_code == 200
    assert "2015" in " ".join(response.context["adminform"].form.errors["qualified_on"])
    other.refresh_from_db()
    assert (other.certificate_number, other.qualified_on) == ("MA-2025-0100", date(2025, 6, 1))
    response = client.post(_change_form(other), {"certificate_number": "MA-2025-0101", "qualified_on": "2025-06-02"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert (other.certificate_number, other.qualified_on, other.user_id) == (
        "MA-2025-0101",
        date(2025, 6, 2),
        other_member.pk,
    )


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_looking_up_a_certificate_number_on_the_roster_finds_its_holder_only(client, program_admin, ava):
    """A legacy number may contain a certificate number ("MA-2026-000001 (legacy)", as the migration
    corrected those typed in that form): the lookup of a whole certificate number is its holder's."""
    number = Certificate.objects.get(member=ava).number
    MACertificationFactory(
        user=UserFactory(first_name="Zed", last_name="Other"), certificate_number=f"{number} (legacy)"
    )
    client.force_login(with_mfa(program_admin))
    html = client.get(ROSTER, {"q": number}).content.decode()
    assert "Ava" in html and "Zed" not in html
    html = client.get(ROSTER, {"q": f"{number} (legacy)"}).content.decode()
    assert "Zed" in html
    assert client.get(ROSTER, {"q": "MA-2026-99999999999999999999999"}).status_code == 200  # no member has it


# --- The qualification date ---------------------------------------------------------------------


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_provision_page_refuses_a_qualification_date_before_the_program(client, program_admin):
    client.force_login(with_mfa(program_admin))
    response = client.post(PROVISION, _provision_data(qualified_on="1900-01-01"))
    assert response.status_code == 200
    (error,) = response.context["form"].errors["qualified_on"]
    assert "1 January 2015" in error or "2015-01-01" in error or "January 1, 2015" in error
    assert not User.objects.filter(email="ab@example.com").exists()


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_first_qualification_day_is_accepted_and_the_day_before_is_not():
    assert date(2015, 1, 1) == FIRST_QUALIFICATION_DAY
    with pytest.raises(AccountError, match="2015") as refused:
        member_provision(
            email="ab@example.com",
            first_name="A",
            last_name="B",
            certificate_number="MA-1",
            qualified_on=date(2014, 12, 31),
        )
    assert refused.value.field == "qualified_on"
    user = member_provision(
        email="ab@example.com", first_name="A", last_name="B", certificate_number="MA-1", qualified_on=date(2015, 1, 1)
    )
    assert user.certification.qualified_on == date(2015, 1, 1)


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_import_refuses_a_qualification_date_before_the_program():
    text = "email,first_name,last_name,certificate_number,qualified_on\nab@example.com,A,B,MA-1,1900-01-01\n"
    result = NewlyCertifiedResource().import_data(
        tablib.Dataset().load(text, format="csv"), dry_run=False, use_transactions=True
    )
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert "2015" in " ".join(invalid[1]["qualified_on"])
    assert not User.objects.filter(email="ab@example.com").exists()


# --- Two at once --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_people_provisioned_at_once_with_one_number_one_is_refused_in_words():
    """The second waits on PostgreSQL's unique index while the first is uncommitted; once the first
    commits it is refused with the rule's words (not a server error), and nothing of it is kept."""

    def first():
        member_provision(
            email="first@example.com",
            first_name="F",
            last_name="One",
            certificate_number="MA-55",
            qualified_on=date(2026, 3, 2),
        )

    with held_open(first) as release:
        threading.Timer(0.5, release.set).start()  # commits while the second waits on the index
        with pytest.raises(AccountError, match="MA-55 belongs to another member") as refused:
            member_provision(
                email="second@example.com",
                first_name="S",
                last_name="Two",
                certificate_number="MA-55",
                qualified_on=date(2026, 3, 2),
            )
    assert refused.value.field == "certificate_number"
    assert list(MACertification.objects.values_list("user__email", flat=True)) == ["first@example.com"]
    assert not User.objects.filter(email="second@example.com").exists()


# --- Numbers typed in the certificate form before the rule ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_a_number_typed_in_the_certificate_form_marked_as_legacy():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("accounts", "0011_user_name_order_idx"),
        ("accounts", "0012_certification_number_not_a_certificate_number"),
    )
    try:
        executor = MigrationExecutor(connection)
        executor.migrate([before])
        apps = MigrationExecutor(connection).loader.project_state([before]).apps
        Old = apps.get_model("accounts", "MACertification")
        OldUser = apps.get_model("accounts", "User")
        typed = Old.objects.create(
            user=OldUser.objects.create(email="ab@example.com"),
            certificate_number="MA-2026-000001",
            qualified_on=date(2026, 3, 2),
        )
        kept = Old.objects.create(
            user=OldUser.objects.create(email="cd@example.com"),
            certificate_number="MA-2026-0203",
            qualified_on=date(2026, 3, 2),
        )
        MigrationExecutor(connection).migrate([after])
        apps = MigrationExecutor(connection).loader.project_state([after]).apps
        New = apps.get_model("accounts", "MACertification")
        assert New.objects.get(pk=typed.pk).certificate_number == "MA-2026-000001 (legacy)"
        assert New.objects.get(pk=kept.pk).certificate_number == "MA-2026-0203"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
