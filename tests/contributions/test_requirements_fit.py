"""Requirements that fit the member (issue 13, finding 1).

A member certified on 15 Nov was greeted "Welcome back", "At risk" and a red "Overdue" for a
training due 31 Oct, with a chart of ten months of zeros before they qualified; nobody could
report a completed training or a held credential.

The rule (docs/program-admin-guide.md, "Technical requirements"): a requirement due before the
member qualified is not owed that program year. Members report a requirement they met with
evidence; verifiers decide it in the contribution queue; verifying records it as met.
"""

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from contributions import rules, selectors, services
from contributions.models import Contribution, RequirementStatus
from mahome import dashboard
from tests.factories import (
    MACertificationFactory,
    ProgramYearFactory,
    TechnicalRequirementFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%certificate\n"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 20), tick=False):
        yield


@pytest.fixture
def year():
    return ProgramYearFactory(year=2026, target_points=400)


@pytest.fixture
def training(year):
    return TechnicalRequirementFactory(
        program_year=year, kind="training", name="Level 3 Model Building", due_on=date(2026, 10, 31)
    )


@pytest.fixture
def credential(year):
    return TechnicalRequirementFactory(
        program_year=year, kind="credential", name="Certified Solution Architect", due_on=date(2026, 12, 31)
    )


@pytest.fixture
def newcomer(member):
    MACertificationFactory(user=member, qualified_on=date(2026, 11, 15))
    return member


@pytest.fixture
def veteran():
    user = UserFactory(email="cara@example.com", first_name="Cara")
    MACertificationFactory(user=user, qualified_on=date(2024, 3, 10))
    return user


def _standing(user, year):
    return selectors.member_year_for(user=user, program_year=year, today=date(2026, 11, 20))


def test_a_requirement_due_before_the_member_qualified_is_not_owed_that_year(year, training, newcomer, veteran):
    mine = _standing(newcomer, year).requirements[0]
    assert not mine.owed and not mine.overdue
    assert _standing(newcomer, year).requirements_pending == []
    theirs = _standing(veteran, year).requirements[0]
    assert theirs.owed and theirs.overdue
    assert [r.requirement for r in _standing(veteran, year).requirements_pending] == [training]


def test_the_year_end_review_does_not_hold_a_requirement_not_owed_against_the_member(year, training, newcomer):
    standing = _standing(newcomer, year)
    _outcome, reasons = services.review._review_decision(standing)
    assert not any("Level 3 Model Building" in reason for reason in reasons)


def test_a_member_certified_days_ago_is_welcomed_not_warned(client, year, training, credential, newcomer):
    client.force_login(newcomer)
    page = client.get("/").content.decode()
    assert "Welcome back" not in page
    assert "Welcome to MA Home" in page
    assert 'data-testid="status">At risk<' not in page
    assert "Overdue" not in page
    assert "Not owed this year" in page
    assert _standing(newcomer, year).status == rules.ON_TRACK


def test_a_member_certified_years_ago_is_welcomed_back_and_warned(client, year, training, veteran):
    client.force_login(veteran)
    page = client.get("/").content.decode()
    assert "Welcome back" in page
    assert "Overdue" in page


def test_the_chart_starts_in_the_month_the_member_qualified(client, year, newcomer):
    client.force_login(newcomer)
    chart = dashboard.build(user=newcomer, today=date(2026, 11, 20))["chart"]
    assert chart["labels"] == ["Nov 2026", "Dec 2026"]


def test_the_dashboard_shows_each_requirements_state_and_next_action(client, year, training, credential, veteran):
    client.force_login(veteran)
    page = client.get("/").content.decode()
    assert f"/contributions/requirements/{credential.pk}/report/" in page
    assert f"/contributions/requirements/{training.pk}/report/" in page
    services.requirement_report_create(
        member=veteran,
        requirement=credential,
        met_on=date(2026, 6, 1),
        evidence_url="https://example.com/cert",
        note="",
    )
    page = client.get("/").content.decode()
    assert "Reported, waiting for verification" in page
    assert f"/contributions/requirements/{credential.pk}/report/" not in page


def test_a_member_reports_a_credential_and_a_verifier_verifies_it_in_the_contribution_queue(
    client, year, credential, veteran, verifier
):
    client.force_login(veteran)
    form = client.get(f"/contributions/requirements/{credential.pk}/report/")
    assert form.status_code == 200
    assert "Certified Solution Architect" in form.content.decode()
    response = client.post(
        f"/contributions/requirements/{credential.pk}/report/",
        {
            "met_on": "2026-06-01",
            "evidence_file": SimpleUploadedFile("architect.pdf", PDF, content_type="application/pdf"),
            "note": "Passed in June.",
        },
    )
    assert response.status_code == 302
    report = Contribution.objects.get(member=veteran, requirement=credential)
    assert report.state == Contribution.State.SUBMITTED
    assert report.claimed_points == 0
    assert report.evidence_name == "architect.pdf"
    assert report in selectors.verification_queue()

    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="verify")
    status = RequirementStatus.objects.get(member=veteran, requirement=credential)
    assert status.met_on == date(2026, 6, 1)
    assert status.history.first().history_user == verifier
    assert _standing(veteran, year).requirements[0].is_met
    page = client.get("/").content.decode()
    assert "met on 1 Jun 2026" in page


def test_a_rejected_report_leaves_the_requirement_to_do(year, credential, veteran, verifier):
    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="reject", note="Expired.")
    assert not RequirementStatus.objects.filter(member=veteran, requirement=credential, met_on__isnull=False).exists()


def test_one_open_report_per_requirement_and_the_second_is_refused_in_words(year, credential, veteran):
    services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    with pytest.raises(services.ContributionError, match="already reported"):
        services.requirement_report_create(
            member=veteran,
            requirement=credential,
            met_on=date(2026, 6, 1),
            evidence_url="https://example.com/c",
            note="",
        )


def test_a_report_needs_evidence_and_a_date_not_in_the_future(client, year, credential, veteran):
    client.force_login(veteran)
    url = f"/contributions/requirements/{credential.pk}/report/"
    page = client.post(url, {"met_on": "2026-06-01"}).content.decode()
    assert "add a link or a file" in page
    page = client.post(url, {"met_on": "2027-06-01", "evidence_url": "https://example.com/c"}).content.decode()
    assert "cannot be in the future" in page
    assert not Contribution.objects.filter(requirement=credential).exists()


def test_reporting_a_requirement_not_owed_or_of_another_year_is_a_404(client, year, training, newcomer):
    other_year = ProgramYearFactory(year=2030)
    later = TechnicalRequirementFactory(program_year=other_year, name="Future training", due_on=date(2030, 5, 1))
    client.force_login(newcomer)
    assert client.get(f"/contributions/requirements/{training.pk}/report/").status_code == 404
    assert client.get(f"/contributions/requirements/{later.pk}/report/").status_code == 404
    assert client.get("/contributions/requirements/999999/report/").status_code == 404


def test_requirement_reports_are_not_in_the_catalogue_or_the_contribution_form(client, year, credential, veteran):
    services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    client.force_login(veteran)
    assert "Technical requirement report" not in client.get("/contributions/catalogue/").content.decode()
    assert "Technical requirement report" not in client.get("/contributions/new/").content.decode()


def test_a_report_completed_after_the_due_date_needs_a_program_admins_reason(
    year, training, veteran, verifier, program_admin
):
    """The same rule as recording a requirement by hand (services.requirement_date_refusal)."""
    from tests.helpers import with_mfa

    report = services.requirement_report_create(
        member=veteran, requirement=training, met_on=date(2026, 11, 10), evidence_url="https://example.com/t", note=""
    )
    with pytest.raises(services.ContributionError, match="after the due date"):
        services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="verify")
    report.refresh_from_db()
    assert report.state == Contribution.State.SUBMITTED
    services.contribution_decide(
        contribution_id=report.pk,
        verifier=with_mfa(program_admin),
        decision="verify",
        note="Late because the course was rescheduled.",
    )
    assert RequirementStatus.objects.get(member=veteran, requirement=training).met_on == date(2026, 11, 10)


# --- The year report and the dashboard say the same of a requirement (walk of 2026-12-07) -----------------
# Paul's year report said "pending" for Nora's refresher that her dashboard showed "Overdue" (due 31 Oct).


def _report_page(client, program_admin, year) -> str:
    from tests.helpers import with_mfa

    client.force_login(with_mfa(program_admin))
    return client.get(f"/admin/contributions/programyear/{year.pk}/report/").content.decode()


def test_a_requirements_progress_is_one_rule_for_the_report_rows_and_the_dashboard(year, training, credential, veteran):
    dashboard_states = [r.progress for r in _standing(veteran, year).requirements]
    (row,) = selectors.program_year_report(program_year=year, today=date(2026, 11, 20))
    assert (
        [r.progress for r in row.requirements]
        == dashboard_states
        == [
            rules.RequirementProgress.OVERDUE,  # due 31 Oct, not met
            rules.RequirementProgress.TO_DO,  # due 31 Dec
        ]
    )


def test_the_year_report_shows_an_overdue_requirement_as_the_dashboard_does(
    client, year, training, credential, veteran, program_admin
):
    client.force_login(veteran)
    assert "Overdue" in client.get("/").content.decode()
    page = _report_page(client, program_admin, year)
    assert "Level 3 Model Building: Overdue" in page
    assert "Certified Solution Architect: To do" in page
    assert ": pending" not in page
    exported = client.get(f"/admin/contributions/programyear/{year.pk}/report/?export=csv").content.decode()
    assert "Level 3 Model Building: Overdue" in exported


def test_the_year_report_shows_a_reported_requirement_as_the_dashboard_does(
    client, year, credential, veteran, program_admin
):
    services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    client.force_login(veteran)
    assert "Reported, waiting for verification" in client.get("/").content.decode()
    page = _report_page(client, program_admin, year)
    assert "Certified Solution Architect: Reported, waiting for verification" in page


# --- Deciding a requirement report in the admin (walk of 2026-12-07) ---------------------------------------
# The decide page showed a requirement report the points machinery of a points claim ("Award bound: at most
# 0 points", an "Awarded points" field, an override of the award bound), none of which can apply: a report
# earns no points; verifying it records the requirement as met.

POINTS_MACHINERY = ("Award bound", "Claimed points", 'name="awarded_points"', 'name="override_reason"', "Cap left")


def _decide_page(client, staff, report):
    from tests.helpers import with_mfa

    client.force_login(with_mfa(staff))
    return client.get(f"/admin/contributions/contribution/{report.pk}/decide/")


@pytest.mark.parametrize("role", ["program_admin", "verifier"])
def test_the_decide_page_of_a_requirement_report_says_what_verifying_records_and_shows_no_points(
    request, client, year, credential, veteran, role
):
    staff = request.getfixturevalue(role)
    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    response = _decide_page(client, staff, report)
    assert response.status_code == 200
    page = response.content.decode()
    for machinery in POINTS_MACHINERY:
        assert machinery not in page, machinery
    assert "Verify records “Certified Solution Architect” as met on 1 Jun 2026 for Cara" in page
    assert "No points: a technical requirement earns none." in page
    assert "Reject leaves the requirement to do" in page

    response = client.post(f"/admin/contributions/contribution/{report.pk}/decide/", {"decision": "verify", "note": ""})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.awarded_points, report.decided_by) == (Contribution.State.VERIFIED, 0, staff)
    assert RequirementStatus.objects.get(member=veteran, requirement=credential).met_on == date(2026, 6, 1)


def test_the_decide_page_of_a_late_report_says_who_may_verify_it_and_how(
    client, year, training, veteran, verifier, program_admin
):
    """After the due date verifying needs a program admin's reason (the decision's message): the page says so
    to each role before they try, in the words of `requirement_date_refusal`'s rule."""
    report = services.requirement_report_create(
        member=veteran, requirement=training, met_on=date(2026, 11, 10), evidence_url="https://example.com/t", note=""
    )
    page = _decide_page(client, verifier, report).content.decode()
    assert "10 Nov 2026 is after the due date of “Level 3 Model Building” (31 Oct 2026)" in page
    assert "Only a program admin can verify it" in page
    page = _decide_page(client, program_admin, report).content.decode()
    assert "Only a program admin can verify it" not in page
    assert "to verify it, write the reason in the message to the member" in page
    for machinery in POINTS_MACHINERY:
        assert machinery not in page, machinery


def test_the_decide_page_of_a_points_claim_keeps_its_points(client, year, veteran, program_admin):
    from tests.factories import ActivityTypeFactory, ContributionFactory

    claim = ContributionFactory(
        member=veteran, program_year=year, activity_type=ActivityTypeFactory(program_year=year), state="submitted"
    )
    page = _decide_page(client, program_admin, claim).content.decode()
    assert "Award bound" in page and 'name="awarded_points"' in page and 'name="override_reason"' in page
    assert "Verify records" not in page


# --- What the member is told about a decided requirement report ---------------------------------------------
# "Verified: Training completed: … (0 points)": a report earns no points; verifying it records the requirement
# as met, and the notice says that, on which date.


def _decision_notices(member):
    from accounts.models import Notification

    return Notification.objects.filter(user=member, kind="maintenance.decision").order_by("pk")


def test_the_member_is_told_their_verified_report_records_the_requirement_as_met_not_points(
    client, year, credential, veteran, verifier, program_admin
):
    from tests.helpers import with_mfa

    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="verify")
    (verified,) = _decision_notices(veteran)
    assert verified.title == (
        "Your report is verified: “Certified Solution Architect” is recorded as met on 1 Jun 2026"
    )
    assert "point" not in verified.title + verified.body

    services.contribution_correct(
        contribution_id=report.pk, staff=with_mfa(program_admin), state="rejected", awarded_points=0, reason="Expired."
    )
    services.contribution_correct(
        contribution_id=report.pk,
        staff=with_mfa(program_admin),
        state="verified",
        awarded_points=None,
        reason="Renewed.",
    )
    corrected = _decision_notices(veteran).last()
    assert corrected.title == (
        "Decision corrected: your report is verified; “Certified Solution Architect” is recorded as met on 1 Jun 2026"
    )
    for notice in _decision_notices(veteran):
        assert "point" not in notice.title + notice.body, notice.title

    client.force_login(veteran)
    page = client.get("/notifications/").content.decode()
    assert "“Certified Solution Architect” is recorded as met on 1 Jun 2026" in page
    assert "point" not in page.split('class="notification-list"')[1].split("</ul>")[0]


def test_the_member_is_told_of_a_rejected_report_or_a_question_without_points(
    client, year, credential, training, veteran, verifier
):
    rejected = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    asked = services.requirement_report_create(
        member=veteran, requirement=training, met_on=date(2026, 9, 1), evidence_url="https://example.com/t", note=""
    )
    services.contribution_decide(contribution_id=rejected.pk, verifier=verifier, decision="reject", note="Expired.")
    services.contribution_decide(contribution_id=asked.pk, verifier=verifier, decision="needs_info", note="Which?")
    titles = [notice.title for notice in _decision_notices(veteran)]
    assert titles == [
        "Not accepted: Credential held: Certified Solution Architect",
        "More information needed: Training completed: Level 3 Model Building",
    ]
    client.force_login(veteran)
    page = client.get("/notifications/").content.decode()
    assert "point" not in page.split('class="notification-list"')[1].split("</ul>")[0]


# --- Correcting a decision on a requirement report in the admin ---------------------------------------------
# The correct page showed a verified report "Award bound", "Claimed points", "Verified, 0 points", an "Awarded
# points" field and the award override: the decide page's points machinery (gone there since 176858d).

CORRECTION_POINTS = (*POINTS_MACHINERY, "Awarded points", "0 points", "at the points below", "Verified, 0")


def _correct_url(report):
    return f"/admin/contributions/contribution/{report.pk}/correct/"


def _correct_page(client, staff, report) -> str:
    from tests.helpers import with_mfa

    client.force_login(with_mfa(staff))
    response = client.get(_correct_url(report))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", ["program_admin", "verifier"])
def test_the_correct_page_of_a_requirement_report_says_what_correcting_records_and_shows_no_points(
    request, client, year, credential, veteran, verifier, role
):
    staff = request.getfixturevalue(role)
    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="verify")
    page = _correct_page(client, staff, report)
    for machinery in CORRECTION_POINTS:
        assert machinery not in page, machinery
    assert "Certified Solution Architect — Credential" in page
    assert "Verified records “Certified Solution Architect” as met on 1 Jun 2026 for Cara" in page
    assert "No points: a technical requirement earns none." in page
    assert "Not accepted leaves the requirement to do" in page

    page = client.post(_correct_url(report), {"action": "verified", "reason": "Again."}, follow=True)
    page = page.content.decode()
    assert "is already verified: nothing to correct" in page
    assert "points" not in page.split('class="errorlist')[1].split("</ul>")[0]

    response = client.post(_correct_url(report), {"action": "rejected", "reason": "The credential had expired."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.awarded_points) == (Contribution.State.REJECTED, 0)
    assert RequirementStatus.objects.get(member=veteran, requirement=credential).met_on is None

    response = client.post(_correct_url(report), {"action": "verified", "reason": "It was renewed in time."})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.awarded_points, report.decided_by) == (Contribution.State.VERIFIED, 0, staff)
    assert RequirementStatus.objects.get(member=veteran, requirement=credential).met_on == date(2026, 6, 1)


def test_the_correct_page_of_a_late_report_says_who_may_verify_it_and_how(
    client, year, training, veteran, verifier, program_admin
):
    from tests.helpers import with_mfa

    report = services.requirement_report_create(
        member=veteran, requirement=training, met_on=date(2026, 11, 10), evidence_url="https://example.com/t", note=""
    )
    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="reject", note="Late.")
    page = _correct_page(client, verifier, report)
    assert "10 Nov 2026 is after the due date of “Level 3 Model Building” (31 Oct 2026)" in page
    assert "Only a program admin can verify it" in page
    page = _correct_page(client, program_admin, report)
    assert "Only a program admin can verify it" not in page
    assert "to verify it, write why in the reason shown to the member" in page
    for machinery in CORRECTION_POINTS:
        assert machinery not in page, machinery
    response = client.post(_correct_url(report), {"action": "verified", "reason": "The course was rescheduled."})
    assert response.status_code == 302
    assert RequirementStatus.objects.get(member=veteran, requirement=training).met_on == date(2026, 11, 10)
    assert with_mfa(program_admin) == Contribution.objects.get(pk=report.pk).decided_by


def test_the_correct_page_of_a_points_claim_keeps_its_points(client, year, veteran, program_admin, verifier):
    from tests.factories import ActivityTypeFactory, ContributionFactory

    claim = ContributionFactory(
        member=veteran, program_year=year, activity_type=ActivityTypeFactory(program_year=year), state="submitted"
    )
    services.contribution_decide(contribution_id=claim.pk, verifier=verifier, decision="verify")
    page = _correct_page(client, program_admin, claim)
    assert "Award bound" in page and 'name="awarded_points"' in page and 'name="override_reason"' in page
    assert "at the points below" in page
    assert "Verified records" not in page


# --- The member's own page of a requirement report ------------------------------------------------------------
# It showed "Claimed points 0" and "Awarded points —" (and "0 claimed" in its history): a report earns none. It
# says what the report is instead: the requirement it reports, the date met, and where it stands, in words.

MEMBER_POINTS = ("Claimed points", "Awarded points", "claimed", "awarded")


def test_the_member_page_of_a_requirement_report_says_what_it_reports_and_shows_no_points(
    client, year, credential, veteran, verifier, other_member
):
    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    client.force_login(veteran)
    response = client.get(f"/contributions/{report.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    for points in MEMBER_POINTS:
        assert points not in page, points
    assert "Certified Solution Architect — Credential, due 31 Dec 2026" in page
    assert "1 June 2026" in page
    assert "Waiting for the program team to check your evidence." in page

    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="verify")
    page = client.get(f"/contributions/{report.pk}/").content.decode()
    for points in MEMBER_POINTS:
        assert points not in page, points
    assert "Verified: “Certified Solution Architect” is recorded as met on 1 June 2026." in page

    client.force_login(other_member)
    assert client.get(f"/contributions/{report.pk}/").status_code == 404


def test_the_member_page_of_a_rejected_requirement_report_says_it_is_still_to_do(
    client, year, credential, veteran, verifier
):
    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="reject", note="Expired.")
    client.force_login(veteran)
    page = client.get(f"/contributions/{report.pk}/").content.decode()
    for points in MEMBER_POINTS:
        assert points not in page, points
    assert "Not accepted: “Certified Solution Architect” is still to do; you may report it again." in page


def test_the_member_page_of_a_points_claim_keeps_its_points(client, year, veteran):
    from tests.factories import ActivityTypeFactory, ContributionFactory

    claim = ContributionFactory(
        member=veteran, program_year=year, activity_type=ActivityTypeFactory(program_year=year), state="submitted"
    )
    client.force_login(veteran)
    page = client.get(f"/contributions/{claim.pk}/").content.decode()
    assert "Claimed points" in page and "Awarded points" in page and "claimed" in page


# --- The admin's change form and queue column of a requirement report -----------------------------------------
# The change form showed "Claimed points: 0" and "Awarded points: -", and the queue's claimed-points column "0",
# for a report, which earns none: the form names the requirement instead; the column shows "—" (the type
# column beside it says "Technical requirement report").


def _admin_page(client, staff, url) -> str:
    from tests.helpers import with_mfa

    client.force_login(with_mfa(staff))
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _claimed_cell(page: str, pk: int) -> str:
    row = page.split(f"/admin/contributions/contribution/{pk}/change/")[1].split("</tr>")[0]
    return row.split('class="field-claimed')[1].split("</td>")[0].split(">", 1)[1]


@pytest.mark.parametrize("role", ["program_admin", "verifier"])
def test_the_admin_shows_no_points_for_a_requirement_report_and_keeps_them_for_a_claim(
    request, client, year, credential, veteran, role
):
    from tests.factories import ActivityTypeFactory, ContributionFactory

    staff = request.getfixturevalue(role)
    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    claim = ContributionFactory(
        member=veteran,
        program_year=year,
        activity_type=ActivityTypeFactory(program_year=year),
        state="submitted",
        claimed_points=35,
    )
    page = _admin_page(client, staff, f"/admin/contributions/contribution/{report.pk}/change/")
    assert "Claimed points" not in page and "Awarded points" not in page
    assert "Certified Solution Architect" in page and "Technical requirement" in page
    page = _admin_page(client, staff, f"/admin/contributions/contribution/{claim.pk}/change/")
    assert "Claimed points" in page and "Awarded points" in page

    queue = _admin_page(client, staff, "/admin/contributions/contribution/")
    assert _claimed_cell(queue, report.pk) == "—"
    assert _claimed_cell(queue, claim.pk) == "35"


# --- The queue's bulk verify and requirement reports ------------------------------------------------------------
# "Verify at the claimed points" verifies a selected report too (the same `contribution_decide`: the requirement is
# recorded as met; a late one is skipped, naming why), but its label and its "N contributions verified" named
# points only: the label and the message say what it does to a report, without points.


@pytest.mark.parametrize("role", ["program_admin", "verifier"])
def test_bulk_verify_says_what_it_does_to_a_requirement_report_without_points(
    request, client, year, credential, training, veteran, role
):
    from tests.factories import ActivityTypeFactory, ContributionFactory
    from tests.helpers import with_mfa

    staff = request.getfixturevalue(role)
    report = services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    late = services.requirement_report_create(
        member=veteran, requirement=training, met_on=date(2026, 11, 10), evidence_url="https://example.com/t", note=""
    )
    claim = ContributionFactory(
        member=veteran,
        program_year=year,
        activity_type=ActivityTypeFactory(program_year=year),
        state="submitted",
    )
    client.force_login(with_mfa(staff))
    queue = client.get("/admin/contributions/contribution/").content.decode()
    assert "Verify: claims at the claimed points, requirement reports as met" in queue

    response = client.post(
        "/admin/contributions/contribution/",
        {"action": "verify_at_claimed", "_selected_action": [report.pk, late.pk, claim.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "1 contribution verified at the claimed points." in page
    assert "1 requirement report verified: its requirement is recorded as met on the date reported." in page
    assert "Skipped “Training completed: Level 3 Model Building”: 10 Nov 2026 is after the due date" in page
    assert "contributions verified." not in page and "contribution verified." not in page
    assert RequirementStatus.objects.get(member=veteran, requirement=credential).met_on == date(2026, 6, 1)
    claim.refresh_from_db()
    late.refresh_from_db()
    assert (claim.state, claim.awarded_points, late.state) == ("verified", claim.claimed_points, "submitted")


def test_bulk_verify_of_claims_only_names_no_reports(client, year, veteran, verifier):
    from tests.factories import ActivityTypeFactory, ContributionFactory
    from tests.helpers import with_mfa

    claim = ContributionFactory(
        member=veteran, program_year=year, activity_type=ActivityTypeFactory(program_year=year), state="submitted"
    )
    client.force_login(with_mfa(verifier))
    page = client.post(
        "/admin/contributions/contribution/",
        {"action": "verify_at_claimed", "_selected_action": [claim.pk]},
        follow=True,
    ).content.decode()
    assert "1 contribution verified at the claimed points." in page
    assert "requirement report" not in page.split('class="messagelist"')[1].split("</ul>")[0]


def test_the_member_list_shows_no_points_for_a_requirement_report(client, year, credential, veteran):
    """The list of a member's contributions showed "0" claimed and "—" awarded for a report, which earns none:
    its points cells say it is a report; a claim beside it keeps its points."""
    from tests.factories import ActivityTypeFactory, ContributionFactory

    services.requirement_report_create(
        member=veteran, requirement=credential, met_on=date(2026, 6, 1), evidence_url="https://example.com/c", note=""
    )
    ContributionFactory(
        member=veteran,
        program_year=year,
        activity_type=ActivityTypeFactory(program_year=year),
        state="submitted",
        claimed_points=35,
    )
    client.force_login(veteran)
    page = client.get("/contributions/").content.decode()
    rows = [row for row in page.split("<tr>")[1:] if "</td>" in row]
    report_row = next(row for row in rows if "Certified Solution Architect" in row)
    claim_row = next(row for row in rows if "Certified Solution Architect" not in row)
    assert "no points" in report_row and ">0<" not in report_row.replace(" ", "")
    assert ">35<" in claim_row.replace(" ", "")
