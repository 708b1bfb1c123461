"""One certificate per certified period: issued on certification and by each renewal, never deleted."""

import re
from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import member_provision
from contributions import selectors, services
from contributions.models import Certificate, ReviewOutcome
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NUMBER = re.compile(r"^MA-\d{4}-\d{6}$")
DEMO_TODAY = datetime(2026, 12, 7, 12, tzinfo=UTC)


def test_every_certified_demo_ma_has_one_current_valid_certificate_in_one_number_format():
    with time_machine.travel(DEMO_TODAY, tick=False):
        call_command("seed_demo", stdout=StringIO())
        today = date(2026, 12, 7)
        year = selectors.program_year_current(today=today)
        certified = list(selectors.eligible_members(program_year=year))
        emails = {m.email for m in certified}
        assert {"ava.member@example.com", "ben.member@example.com", "cara.met@example.com"} <= emails
        assert {"dan.optout@example.com", "nora.lind@northwind.example"} <= emails
        for member in certified:
            current = selectors.certificate_current(member=member, today=today)
            assert current is not None, member.email
            assert current.status_on(today) == Certificate.Status.VALID, member.email
            assert current.year == 2026 and current.valid_until == date(2027, 1, 1)
        assert all(NUMBER.match(n) for n in Certificate.objects.values_list("number", flat=True))
        eli = User.objects.get(email="eli.lapsed@example.com")
        assert selectors.certificate_current(member=eli, today=today).status_on(today) == Certificate.Status.EXPIRED

        # Cara: qualified 2019, renewed by the 2020-2022 reviews, carried over the years MA Home did not run.
        cara = User.objects.get(email="cara.met@example.com")
        sources = dict(Certificate.objects.filter(member=cara).values_list("year", "source"))
        assert sources == {
            2019: "qualification",
            2020: "carried_over",
            2021: "renewal",
            2022: "renewal",
            2023: "renewal",
            2024: "carried_over",
            2025: "carried_over",
            2026: "carried_over",
        }
        # Seeding again issues nothing new.
        count = Certificate.objects.count()
        call_command("seed_demo", stdout=StringIO())
        assert Certificate.objects.count() == count


@pytest.fixture
def year_2021(db):
    year = ProgramYearFactory(year=2021)
    ProgramYearFactory(year=2022)
    activity_type = ActivityTypeFactory(program_year=year, points=100)
    for name, points in [("recert", 400), ("short", 100)]:
        user = UserFactory(email=f"{name}@example.com")
        MACertificationFactory(user=user, qualified_on=date(2020, 5, 1))
        ContributionFactory(
            member=user, activity_type=activity_type, claimed_points=points, awarded_points=points, state="verified"
        )
    return year


def test_renewal_creates_the_next_periods_certificate_with_history(year_2021, program_admin):
    recert = User.objects.get(email="recert@example.com")
    services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    assert list(Certificate.objects.filter(member=recert).values_list("year", "source")) == [
        (2021, "carried_over"),
        (2020, "qualification"),
    ]
    services.year_end_review(program_year=year_2021, dry_run=False, today=date(2022, 1, 20), by=program_admin)
    renewal = Certificate.objects.get(member=recert, year=2022)
    assert renewal.source == Certificate.Source.RENEWAL and renewal.program_year == year_2021
    assert (renewal.valid_from, renewal.valid_until) == (date(2022, 1, 1), date(2023, 1, 1))
    assert renewal.number == f"MA-2022-{recert.pk:06d}"
    assert renewal.history.get().history_user == program_admin
    assert selectors.certificate_current(member=recert, today=date(2022, 2, 1)) == renewal
    short = User.objects.get(email="short@example.com")
    assert not Certificate.objects.filter(member=short, year=2022).exists()
    assert ReviewOutcome.objects.get(member=short).outcome == "lapsed"


def test_provisioning_issues_the_certificate_of_the_qualification_period(db):
    with time_machine.travel(DEMO_TODAY, tick=False):
        ProgramYearFactory(year=2026)
        user = member_provision(
            email="new@example.com",
            first_name="New",
            last_name="Member",
            certificate_number="IMPORT-7",
            qualified_on=date(2026, 11, 15),
        )
    certificate = Certificate.objects.get(member=user)
    assert certificate.source == Certificate.Source.QUALIFICATION
    assert (certificate.year, certificate.valid_from, certificate.valid_until) == (
        2026,
        date(2026, 11, 15),
        date(2027, 1, 1),
    )
    assert certificate.status_on(date(2026, 12, 7)) == Certificate.Status.VALID


def test_issuing_again_or_concurrently_adds_nothing(year_2021):
    recert = User.objects.get(email="recert@example.com")
    first = services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    assert len(first) == 2
    assert services.certificates_issue_missing(member=recert, today=date(2021, 3, 1)) == []
    duplicate = Certificate(
        member=recert, year=2021, number="MA-2021-999999", valid_from=date(2021, 1, 1), valid_until=date(2022, 1, 1)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_revoke_needs_a_reason_records_who_and_keeps_the_row(year_2021, program_admin):
    recert = User.objects.get(email="recert@example.com")
    services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    certificate = Certificate.objects.get(member=recert, year=2021)
    with pytest.raises(services.ContributionError, match="reason"):
        services.certificate_revoke(certificate=certificate, reason="  ", by=program_admin)
    with CaptureQueriesContext(connection) as queries:
        revoked = services.certificate_revoke(certificate=certificate, reason="Exam result annulled.", by=program_admin)
    assert any("FOR NO KEY UPDATE" in q["sql"] for q in queries.captured_queries)
    assert revoked.state == Certificate.State.REVOKED and revoked.revoked_by == program_admin
    assert revoked.status_on(date(2021, 6, 1)) == Certificate.Status.REVOKED
    assert revoked.history.first().history_user == program_admin
    with pytest.raises(services.ContributionError, match="already revoked"):
        services.certificate_revoke(certificate=certificate, reason="again", by=program_admin)
    assert Certificate.objects.filter(pk=certificate.pk).exists()


def test_reissue_keeps_the_number_marks_the_old_one_superseded_and_points_current_to_the_new(year_2021, program_admin):
    recert = User.objects.get(email="recert@example.com")
    services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    old = Certificate.objects.get(member=recert, year=2021)
    new = services.certificate_reissue(certificate=old, correction="Name spelled wrong.", by=program_admin)
    old.refresh_from_db()
    assert old.state == Certificate.State.SUPERSEDED and old.superseded_by == new
    assert old.status_on(date(2021, 6, 1)) == Certificate.Status.SUPERSEDED
    assert (new.number, new.year, new.valid_until) == (old.number, old.year, old.valid_until)
    assert new.verification_code != old.verification_code
    assert new.source == Certificate.Source.REISSUE and new.correction == "Name spelled wrong."
    assert selectors.certificate_current(member=recert, today=date(2021, 6, 1)) == new
    assert new.history.get().history_user == program_admin
    with pytest.raises(services.ContributionError, match="already replaced"):
        services.certificate_reissue(certificate=old, correction="again", by=program_admin)


def test_a_certificate_cannot_be_deleted_with_its_holder(year_2021):
    from django.db.models import ProtectedError

    recert = User.objects.get(email="recert@example.com")
    services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    with pytest.raises(ProtectedError):
        recert.delete()


def test_dashboard_profile_and_list_point_at_the_current_certificate(client, year_2021, other_member):
    recert = User.objects.get(email="recert@example.com")
    with time_machine.travel(datetime(2021, 3, 1, 12, tzinfo=UTC), tick=False):
        services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
        services.certificates_issue_missing(member=other_member, today=date(2021, 3, 1))  # no certification: none
        MACertificationFactory(user=other_member, qualified_on=date(2021, 2, 1))
        theirs = services.certificates_issue_missing(member=other_member, today=date(2021, 3, 1))[0]
        current = Certificate.objects.get(member=recert, year=2021)
        client.force_login(recert)
        dashboard = client.get("/").content.decode()
        profile = client.get("/profile/").content.decode()
        assert current.number in dashboard and current.verification_code in dashboard
        assert current.number in profile and current.verification_code in profile
        assert "Valid until 31 Dec 2021." in dashboard
        response = client.get("/certificates/")
        html = response.content.decode()
        assert response.status_code == 200
        assert "MA-2020-" in html and "MA-2021-" in html and "Expired after 31 Dec 2020." in html
        assert theirs.number not in html and theirs.verification_code not in html


def test_certificates_list_query_count_does_not_grow_with_certificates(
    client, year_2021, django_assert_max_num_queries
):
    recert = User.objects.get(email="recert@example.com")
    services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    client.force_login(recert)
    client.get("/certificates/")  # the first request of a session also records the session
    with django_assert_max_num_queries(9), CaptureQueriesContext(connection) as two:
        assert client.get("/certificates/").status_code == 200
    services.year_end_review(program_year=year_2021, dry_run=False, today=date(2022, 1, 20))
    services.certificate_reissue(
        certificate=Certificate.objects.get(member=recert, year=2021), correction="x", by=recert
    )
    assert Certificate.objects.filter(member=recert).count() == 4
    with CaptureQueriesContext(connection) as four:
        assert client.get("/certificates/").status_code == 200
    assert len(four) == len(two)


def test_certificates_list_needs_sign_in(client, db):
    response = client.get("/certificates/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Staff: revoke, re-issue, export (through the admin) -----------------------------------------


@pytest.fixture
def issued(year_2021):
    recert = User.objects.get(email="recert@example.com")
    services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    return Certificate.objects.get(member=recert, year=2021)


def test_program_admin_revokes_in_the_admin_with_a_reason_and_cannot_delete(client, program_admin, issued):
    from tests.helpers import with_mfa

    client.force_login(with_mfa(program_admin))
    changelist = client.get("/admin/contributions/certificate/").content.decode()
    assert issued.number in changelist and f"{issued.pk}/revoke/" in changelist
    url = f"/admin/contributions/certificate/{issued.pk}/revoke/"
    page = client.get(url).content.decode()
    assert "cannot be undone" in page
    response = client.post(url, {"text": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(url, {"text": "Exam result annulled."})
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.state == "revoked" and issued.revoked_by == program_admin
    assert client.post(f"/admin/contributions/certificate/{issued.pk}/delete/").status_code in (302, 403)
    assert Certificate.objects.filter(pk=issued.pk).exists()


def test_program_admin_reissues_in_the_admin(client, program_admin, issued):
    from tests.helpers import with_mfa

    client.force_login(with_mfa(program_admin))
    response = client.post(f"/admin/contributions/certificate/{issued.pk}/reissue/", {"text": "Name corrected."})
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.state == "superseded" and issued.superseded_by.correction == "Name corrected."


def test_verifier_sees_certificates_but_no_revoke_button_and_is_refused(client, verifier, issued):
    from tests.helpers import with_mfa

    client.force_login(with_mfa(verifier))
    changelist = client.get("/admin/contributions/certificate/").content.decode()
    assert issued.number in changelist
    assert f"{issued.pk}/revoke/" not in changelist and f"{issued.pk}/reissue/" not in changelist
    assert client.post(f"/admin/contributions/certificate/{issued.pk}/revoke/", {"text": "x"}).status_code == 403
    issued.refresh_from_db()
    assert issued.state == "active"


def test_bulk_export_lists_every_certificate_with_its_status(client, program_admin, issued):
    from django.contrib import admin

    from tests.helpers import with_mfa

    services.certificate_revoke(certificate=issued, reason="Exam result annulled.", by=program_admin)
    model_admin = admin.site._registry[Certificate]
    csv_index = next(i for i, f in enumerate(model_admin.get_export_formats()) if f().get_title() == "csv")
    fields = [f"certificateresource_{name}" for name in model_admin.resource_classes[0]._meta.fields]
    client.force_login(with_mfa(program_admin))
    response = client.post(
        "/admin/contributions/certificate/export/",
        {"format": csv_index, "resource": 0, **dict.fromkeys(fields, "on")},
    )
    assert response.status_code == 200, response.content.decode()[:500]
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("number,holder,email,year,source,valid_from,valid_until")
    assert len(lines) == 3
    revoked = next(line for line in lines if line.startswith(issued.number))
    assert "Revoked" in revoked and "Exam result annulled." in revoked and issued.verification_code in revoked


def test_the_review_notification_links_the_live_certificate_after_a_reissue(year_2021, program_admin):
    from accounts.models import Notification

    year_2021.notification_on = date(2022, 2, 1)
    year_2021.save()
    services.year_end_review(program_year=year_2021, dry_run=False, today=date(2022, 1, 20), by=program_admin)
    recert = User.objects.get(email="recert@example.com")
    old = Certificate.objects.get(member=recert, year=2022)
    new = services.certificate_reissue(certificate=old, correction="Name corrected.", by=program_admin)
    services.review_notifications_send(program_year=year_2021, today=date(2022, 2, 1))
    notification = Notification.objects.get(user=recert, kind="maintenance.review")
    assert notification.url == f"/verify/{new.verification_code}/"


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_and_revoking_each_happen_once(year_2021, program_admin):
    """Real threads on PostgreSQL: the partial unique index and the row lock decide, not Python."""
    import threading

    from django.db import connections

    recert = User.objects.get(email="recert@example.com")
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def issue():
        try:
            barrier.wait()
            services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(Certificate.objects.filter(member=recert).values_list("year", flat=True)) == [2020, 2021]

    certificate = Certificate.objects.get(member=recert, year=2021)
    barrier = threading.Barrier(4)

    def revoke():
        try:
            barrier.wait()
            services.certificate_revoke(certificate=certificate, reason="Exam annulled.", by=program_admin)
        except services.ContributionError as error:
            errors.append(str(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=revoke) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 3 and all("already revoked" in e for e in errors)
    assert certificate.history.filter(history_change_reason="revoked").count() == 1


def test_an_import_of_newly_certified_mas_issues_their_certificates_and_a_dry_run_issues_none(db):
    import tablib

    from accounts.resources import NewlyCertifiedResource

    text = (
        "email,first_name,last_name,certificate_number,qualified_on\n"
        "nora@example.com,Nora,Lind,IMPORT-1,2026-03-11\n"
        "omar@example.com,Omar,Haddad,IMPORT-2,2024-09-20\n"
    )
    with time_machine.travel(DEMO_TODAY, tick=False):
        ProgramYearFactory(year=2026)
        NewlyCertifiedResource().import_data(tablib.Dataset().load(text, format="csv"), dry_run=True)
        assert not Certificate.objects.exists()
        result = NewlyCertifiedResource().import_data(
            tablib.Dataset().load(text, format="csv"), dry_run=False, use_transactions=True
        )
    assert not result.has_errors() and not result.has_validation_errors()
    years = {
        email: sorted(Certificate.objects.filter(member__email=email).values_list("year", flat=True))
        for email in ("nora@example.com", "omar@example.com")
    }
    assert years == {"nora@example.com": [2026], "omar@example.com": [2024, 2025, 2026]}


def test_the_dashboard_card_warns_in_the_last_two_months(client, year_2021):
    recert = User.objects.get(email="recert@example.com")
    services.certificates_issue_missing(member=recert, today=date(2021, 3, 1))
    for moment, expected in [
        (datetime(2021, 10, 1, 12, tzinfo=UTC), False),
        (datetime(2021, 12, 7, 12, tzinfo=UTC), True),
    ]:
        with time_machine.travel(moment, tick=False):
            client.force_login(recert)
            response = client.get("/")
            assert response.status_code == 200
            html = response.content.decode()
            assert recert_number(recert) in html
            assert ("It expires in 25 days." in html) is expected


def recert_number(member) -> str:
    return f"MA-2021-{member.pk:06d}"
