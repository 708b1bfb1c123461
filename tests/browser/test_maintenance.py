"""A member's contribution travels from the form through the admin queue to the dashboard."""

from datetime import date

import pytest

from contributions import services
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    TechnicalRequirementFactory,
    UserFactory,
)
from tests.helpers import screenshot, sign_in_fast, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def maintenance_year(db):
    year = ProgramYearFactory(year=2026, target_points=400)
    speaking = ActivityTypeFactory(program_year=year, code="speaking", name="Speak at an event or webinar", points=100)
    mentoring = ActivityTypeFactory(
        program_year=year, code="mentoring", name="Mentor a new model builder", points=20, unit="hour", annual_cap=200
    )
    requirement = TechnicalRequirementFactory(program_year=year, name="Certified Solution Architect, valid for 2027")
    return year, speaking, mentoring, requirement


def _watch_console(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_member_submits_verifier_verifies_dashboard_moves(browser, live_server, page, maintenance_year, tmp_path):
    _year, speaking, mentoring, requirement = maintenance_year
    member = UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    services.requirement_status_set(requirement=requirement, member=member, met_on=date(2026, 4, 2))
    ContributionFactory(member=member, activity_type=speaking, state="verified", awarded_points=100, claimed_points=100)
    ContributionFactory(
        member=member, activity_type=mentoring, quantity=12, claimed_points=240, awarded_points=240, state="verified"
    )
    problems = _watch_console(page)

    sign_in_fast(page, live_server, member)
    page.goto("/")
    assert page.get_by_test_id("status").inner_text() == "At risk"
    assert page.get_by_test_id("verified").inner_text() == "300"

    page.goto("/contributions/new/")
    page.get_by_label("Activity type").select_option(label="2026 · Speak at an event or webinar — 100 per item")
    page.get_by_label("Title").fill("Keynote at the Paris user group")
    page.get_by_label("Description").fill("Connected planning in retail, 120 attendees.")
    page.get_by_label("Date").fill("2026-11-10")
    evidence = tmp_path / "agenda.pdf"
    evidence.write_bytes(b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    page.get_by_label("Evidence file").set_input_files(str(evidence))
    page.get_by_role("button", name="Submit for verification").click()
    page.wait_for_url("**/contributions/*/")
    page.get_by_text("was submitted for verification (100 points claimed)").wait_for()

    page.goto("/")
    assert page.get_by_test_id("pending").inner_text() == "100"
    assert page.get_by_test_id("status").inner_text() == "On track"
    page.wait_for_function("document.getElementById('points-chart').getAttribute('width') !== null")
    screenshot(page, "maintenance-dashboard-on-track")

    verifier = UserFactory(email="vera@example.com", first_name="Vera", is_staff=True, groups=["Verifier"])
    staff = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    admin_page = staff.new_page()
    sign_in_fast(admin_page, live_server, with_mfa(verifier))
    admin_page.goto("/admin/contributions/contribution/")
    assert admin_page.get_by_role("link", name="Keynote at the Paris user group").is_visible()
    assert admin_page.get_by_role("link", name="File").is_visible()
    screenshot(admin_page, "maintenance-admin-queue")
    admin_page.get_by_role("link", name="Decide").click()
    admin_page.get_by_label("Verify", exact=True).check()
    admin_page.get_by_role("button", name="Record decision").click()
    admin_page.get_by_text("Decision recorded").wait_for()
    staff.close()

    page.goto("/")
    assert page.get_by_test_id("verified").inner_text() == "400"
    assert page.get_by_test_id("status").inner_text() == "Met"
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    screenshot(page, "maintenance-dashboard-met")


def test_at_risk_member_dashboard_desktop_and_phone(browser, live_server, page, phone_page, maintenance_year):
    _year, _speaking, mentoring, _requirement = maintenance_year
    member = UserFactory(email="ben@example.com", first_name="Ben", last_name="Okafor")
    MACertificationFactory(user=member, qualified_on=date(2026, 6, 15))
    ContributionFactory(
        member=member, activity_type=mentoring, quantity=2, claimed_points=40, awarded_points=40, state="verified"
    )
    problems = _watch_console(page)
    sign_in_fast(page, live_server, member)
    page.goto("/")
    assert page.get_by_test_id("status").inner_text() == "At risk"
    assert page.get_by_text("ceil(400 × 7 months remaining ÷ 12) = 234 points").is_visible()
    assert page.get_by_role("heading", name="Your next step").is_visible()
    page.wait_for_function("document.getElementById('points-chart').getAttribute('width') !== null")
    screenshot(page, "maintenance-dashboard-at-risk")
    assert not problems, problems
    sign_in_fast(phone_page, live_server, member)
    phone_page.goto("/")
    screenshot(phone_page, "maintenance-dashboard-at-risk-phone")
