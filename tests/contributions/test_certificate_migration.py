"""The data migration gives existing certificates one format and every certified member their periods."""

from datetime import date

import pytest
import time_machine

from tests.helpers import migrate_to, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("contributions", "0006_review_run")
AFTER = ("contributions", "0009_certificate_constraints")


@pytest.fixture(autouse=True)
def _back_to_the_latest_migrations():
    """Leave the database as the other tests expect it: every app at its latest migration
    (contributions has migrations after AFTER, which later tests of the session rely on)."""
    yield
    migrate_to_latest()


def test_existing_rows_are_migrated_to_one_certificate_per_certified_period():
    apps = migrate_to(BEFORE)
    User = apps.get_model("accounts", "User")
    MACertification = apps.get_model("accounts", "MACertification")
    ProgramYear = apps.get_model("contributions", "ProgramYear")
    ReviewOutcome = apps.get_model("contributions", "ReviewOutcome")
    Certificate = apps.get_model("contributions", "Certificate")
    year_2022 = ProgramYear.objects.create(year=2022, opens_on=date(2022, 1, 1), deadline=date(2023, 1, 1))
    cara = User.objects.create(email="cara@example.com", first_name="Cara", last_name="Nguyen")
    eli = User.objects.create(email="eli@example.com", first_name="Eli", last_name="Moreno")
    MACertification.objects.create(user=cara, certificate_number="MA-2019-00010", qualified_on=date(2019, 5, 2))
    MACertification.objects.create(user=eli, certificate_number="MA-2019-00011", qualified_on=date(2019, 2, 1))
    ReviewOutcome.objects.create(
        member=cara, program_year=year_2022, outcome="recertified", target_points=400, verified_points=500
    )
    ReviewOutcome.objects.create(
        member=eli, program_year=year_2022, outcome="lapsed", target_points=400, verified_points=0
    )
    Certificate.objects.create(
        member=cara, program_year=year_2022, year=2023, number="MA-2023-000010", valid_until=date(2024, 1, 1)
    )

    with time_machine.travel(date(2026, 12, 7), tick=False):
        apps = migrate_to(AFTER)
    Certificate = apps.get_model("contributions", "Certificate")
    cara_rows = {c.year: c for c in Certificate.objects.filter(member_id=cara.pk)}
    assert sorted(cara_rows) == [2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026]
    assert cara_rows[2019].source == "qualification" and cara_rows[2019].valid_from == date(2019, 5, 2)
    assert cara_rows[2023].source == "renewal" and cara_rows[2023].valid_from == date(2023, 1, 1)
    assert cara_rows[2023].number == f"MA-2023-{cara.pk:06d}"
    assert cara_rows[2026].source == "carried_over"
    assert (cara_rows[2026].valid_from, cara_rows[2026].valid_until) == (date(2026, 1, 1), date(2027, 1, 1))
    assert len({c.subject_salt for c in cara_rows.values()}) == len(cara_rows)
    assert len({c.verification_code for c in cara_rows.values()}) == len(cara_rows)
    eli_years = sorted(Certificate.objects.filter(member_id=eli.pk).values_list("year", flat=True))
    assert eli_years == [2019, 2020, 2021, 2022], "the 2022 lapse ends the certification"
