"""One certificate number for staff too: the roster and the exports show the member's current
certificate's number (MA-YYYY-NNNNNN, the one members and employers see), not the reference typed at
import, which stays as the *legacy number*."""

from datetime import date

import pytest
import time_machine
from django.utils import timezone

from contributions import services
from contributions.models import Certificate, Contribution
from engagements.models import SignUp
from tests.contributions.test_exports import _by_header, _export, _report_url, _sheet
from tests.factories import (
    ContributionFactory,
    MACertificationFactory,
    OpportunityFactory,
    SignUpFactory,
    UserFactory,
)
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

ROSTER = "/admin/accounts/macertification/"


@pytest.fixture
def certified(year_2026):
    """Amélie, imported with the reference MA-2024-0042, holds the 2026 certificate."""
    user = UserFactory(email="amelie@example.com", first_name="Amélie", last_name="Lefèvre")
    MACertificationFactory(user=user, certificate_number="MA-2024-0042", qualified_on=date(2026, 3, 10))
    services.certificates_issue_missing(member=user, today=date(2026, 5, 1))
    (current,) = Certificate.objects.filter(member=user, year=2026)
    assert current.number == f"MA-2026-{user.pk:06d}"
    return user


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_roster_shows_the_current_certificate_number_and_the_legacy_one_apart(client, program_admin, certified):
    client.force_login(with_mfa(program_admin))
    html = client.get(ROSTER).content.decode()
    number = f"MA-2026-{certified.pk:06d}"
    assert number in html
    assert "Legacy number" in html and "MA-2024-0042" in html
    # The current number finds the member too.
    html = client.get(ROSTER, {"q": number}).content.decode()
    assert "Amélie" in html


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_a_revoked_or_replaced_certificate_is_not_the_number_shown(client, program_admin, certified):
    (current,) = Certificate.objects.filter(member=certified, year=2026)
    services.certificate_reissue(certificate=current, correction="Misspelt name", by=program_admin)
    client.force_login(with_mfa(program_admin))
    html = client.get(ROSTER).content.decode()
    assert html.count(f"MA-2026-{certified.pk:06d}") == 1  # the re-issued one, not the replaced one as well


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_report_export_carries_the_current_certificate_number_and_the_legacy_one(
    client, program_admin, certified, year_2026
):
    client.force_login(with_mfa(program_admin))
    (row,) = _by_header(_sheet(client.get(_report_url(year_2026) + "?export=xlsx")))
    assert row["certificate_number"].value == f"MA-2026-{certified.pk:06d}"
    assert row["legacy_number"].value == "MA-2024-0042"


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_the_contributions_and_signups_exports_carry_the_current_certificate_number(
    client, program_admin, certified, speaking
):
    ContributionFactory(member=certified, activity_type=speaking, submitted_at=timezone.now())
    SignUpFactory(opportunity=OpportunityFactory(title="Blog"), member=certified, state=SignUp.State.CONFIRMED)
    client.force_login(with_mfa(program_admin))
    (row,) = _by_header(_sheet(_export(client, Contribution, "", "xlsx")))
    assert row["certificate_number"].value == f"MA-2026-{certified.pk:06d}"
    (row,) = _by_header(_sheet(_export(client, SignUp, "", "xlsx")))
    assert row["certificate_number"].value == f"MA-2026-{certified.pk:06d}"


def test_a_member_without_a_certificate_exports_an_empty_number(client, program_admin, year_2026):
    MACertificationFactory(user=UserFactory(), certificate_number="OLD-1", qualified_on=date(2024, 3, 10))
    client.force_login(with_mfa(program_admin))
    (row,) = _by_header(_sheet(client.get(_report_url(year_2026) + "?export=xlsx")))
    assert row["certificate_number"].value is None
    assert row["legacy_number"].value == "OLD-1"
