import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Notification
from contributions import services
from contributions.models import Certificate, ReviewOutcome
from tests.factories import ProgramYearFactory

pytestmark = pytest.mark.django_db


def test_dry_run_lists_outcomes_and_reasons_and_writes_nothing(year_2021):
    report = services.year_end_review(program_year=year_2021, dry_run=True)
    outcomes = {e.member.email: (e.outcome, e.reasons) for e in report.entries}
    assert outcomes["recert@example.com"][0] == "recertified"
    assert outcomes["prorated@example.com"][0] == "recertified"  # target 200 for a July qualification
    assert outcomes["short@example.com"] == ("lapsed", ["300 verified points of 400 (100 missing)."])
    assert outcomes["noreq@example.com"][1] == [
        "Technical requirement not met: Certified Solution Architect, valid for 2022."
    ]
    assert outcomes["optout@example.com"][0] == "opted_out"
    assert "not-an-ma@example.com" not in outcomes
    assert not ReviewOutcome.objects.exists() and not Certificate.objects.exists()
    assert not Notification.objects.exists()


def test_final_run_twice_gives_the_same_certificates(year_2021):
    first = services.year_end_review(program_year=year_2021, dry_run=False, today=date(2022, 1, 20))
    certificates = list(Certificate.objects.order_by("pk").values_list("member__email", "number", "verification_code"))
    assert first.created_certificates == 2 and first.created_outcomes == 5
    assert {email for email, *_ in certificates} == {"recert@example.com", "prorated@example.com"}
    assert all(c.valid_until == date(2023, 1, 1) and c.year == 2022 for c in Certificate.objects.all())
    notifications = Notification.objects.filter(kind="maintenance.review").count()
    assert notifications == 5

    second = services.year_end_review(program_year=year_2021, dry_run=False, today=date(2022, 1, 21))
    assert second.created_certificates == 0 and second.created_outcomes == 0
    assert list(Certificate.objects.order_by("pk").values_list("member__email", "number", "verification_code")) == (
        certificates
    )
    assert ReviewOutcome.objects.count() == 5
    assert Notification.objects.filter(kind="maintenance.review").count() == notifications
    assert second.counts == first.counts == {"recertified": 2, "lapsed": 2, "opted_out": 1}


def test_final_run_is_refused_while_submissions_are_open(year_2021):
    with pytest.raises(services.ContributionError, match="still open"):
        services.year_end_review(program_year=year_2021, dry_run=False, today=date(2021, 12, 1))


def test_lapsed_members_are_not_in_the_next_year(year_2021):
    services.year_end_review(program_year=year_2021, dry_run=False, today=date(2022, 1, 20))
    year_2022 = ProgramYearFactory(year=2022)
    emails = {e.member.email for e in services.year_end_review(program_year=year_2022, dry_run=True).entries}
    assert emails == {"recert@example.com", "prorated@example.com"}


def test_command_json_output(year_2021):
    out = StringIO()
    call_command("year_end_review", "2021", "--dry-run", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["counts"] == {"recertified": 2, "lapsed": 2, "opted_out": 1}
    assert data["dry_run"] is True
    entry = next(m for m in data["members"] if m["email"] == "short@example.com")
    assert entry == {
        "email": "short@example.com",
        "target": 400,
        "verified": 300,
        "outcome": "lapsed",
        "reasons": ["300 verified points of 400 (100 missing)."],
        "certificate": "",
    }
    assert not ReviewOutcome.objects.exists()


def test_command_text_output_and_final_run(year_2021):
    out = StringIO()
    call_command("year_end_review", "2021", stdout=out)
    text = out.getvalue()
    assert "Final review: program year 2021, 5 members" in text
    assert "Recorded 5 new outcomes and 2 new certificates." in text
    with pytest.raises(CommandError, match="no program year 1999"):
        call_command("year_end_review", "1999")


def test_a_year_not_started_is_not_reviewed_even_as_a_dry_run():
    year_2027 = ProgramYearFactory(year=2027)
    for dry_run in (True, False):
        with pytest.raises(services.ContributionError, match="has not started yet: it opens on 1 Jan 2027"):
            services.year_end_review(program_year=year_2027, dry_run=dry_run, today=date(2026, 12, 7))
    assert services.year_end_review_refusal(program_year=year_2027, today=date(2026, 12, 7), final=False)
    assert services.year_end_review_refusal(program_year=year_2027, today=date(2027, 1, 1), final=False) is None


def test_the_command_says_a_year_not_started_cannot_be_reviewed(year_2021):
    ProgramYearFactory(year=2099)
    with pytest.raises(CommandError, match="has not started yet"):
        call_command("year_end_review", "2099", "--dry-run", stdout=StringIO())
