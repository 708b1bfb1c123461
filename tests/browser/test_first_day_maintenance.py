"""A new MA's first day with their certification, at 1280×800 and 390×844 (issue 13, findings 1, 3 and 5).

Invitation → first password → dashboard (welcomed, not warned; a training due before they
qualified is not owed) → report the training they completed → log a contribution while the live
preview shows its points → answer the verifier's question in the thread. axe-core finds no serious
or critical violation and the CSP blocks nothing on any step; screenshots are saved as
var/screenshots/first-day-maintenance-<width>-<step>.png.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts import services as account_services
from contributions import services
from contributions.models import Contribution, RequirementStatus
from tests.a11y.test_pages import _check, _prepare
from tests.factories import ActivityTypeFactory, ProgramYearFactory, StaffFactory, TechnicalRequirementFactory
from tests.helpers import screenshot, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "a-first-day-passphrase-2026"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def journey_page(request, browser, live_server):
    width = request.param
    options = {"base_url": live_server.url, "viewport": VIEWPORTS[width]}
    if width == "phone":
        options |= {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield width, page
    context.close()


@pytest.mark.parametrize("journey_page", ["desktop", "phone"], indirect=True)
def test_a_new_ma_reports_a_training_logs_a_contribution_and_answers_the_verifier(journey_page):
    width, page = journey_page
    problems: list[str] = []
    _prepare(page, problems)
    today = timezone.localdate()
    year = ProgramYearFactory(year=today.year, target_points=400)
    ActivityTypeFactory(program_year=year, name="Speak at an event or webinar", points=100, evidence_required=True)
    TechnicalRequirementFactory(
        program_year=year, kind="training", name="The Anaplan Way", due_on=today - timedelta(days=30)
    )
    training = TechnicalRequirementFactory(
        program_year=year, kind="training", name="Level 3 Model Building", due_on=today + timedelta(days=10)
    )
    email = f"noor.{width}@example.com"
    member = account_services.member_provision(
        email=email,
        first_name="Noor",
        last_name="Haddad",
        certificate_number=f"MA-{today.year}-{800 if width == 'desktop' else 801}",
        qualified_on=today - timedelta(days=5),
    )
    invitation = next(message for message in mail.outbox if email in message.to)
    path = member.notifications.get(kind="account.invitation").email_url
    assert path in invitation.body

    def step(name: str) -> None:
        _check(page, f"first-day-maintenance-{name}", width, problems)
        screenshot(page, f"first-day-maintenance-{width}-{name}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width}"

    # 1. The invitation: choose a password, then sign in.
    page.goto(path)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password, again").fill(PASSWORD)
    page.get_by_role("button", name="Save password").click()
    assert page.get_by_role("heading", name="Your password is set").is_visible()
    page.get_by_role("link", name="Sign in", exact=True).last.click()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()

    # 2. The dashboard welcomes a new MA and says what they owe.
    page.get_by_role("heading", name="Welcome to MA Home, Noor").wait_for()
    assert page.get_by_test_id("status").inner_text() == "On track"
    requirement_list = page.locator("#requirements")
    assert requirement_list.get_by_text("Not owed this year").is_visible()
    assert requirement_list.get_by_text("Overdue").count() == 0
    step("1-dashboard")

    # 3. Report the training they completed.
    requirement_list.get_by_role("link", name="Report it as completed").click()
    page.get_by_role("heading", name="Report a completed training: Level 3 Model Building").wait_for()
    page.get_by_label("Completed or obtained on").fill(today.isoformat())
    page.get_by_label("Evidence link").fill("https://academy.example.com/certificates/noor-l3")
    step("2-report-training")
    page.get_by_role("button", name="Send for verification").click()
    page.get_by_text("is reported").wait_for()
    page.goto("/")
    assert page.locator("#requirements").get_by_text("Reported, waiting for verification").is_visible()

    # 4. Log a contribution; the live preview shows the points before submitting.
    page.get_by_role("link", name="Log a contribution").first.click()
    page.get_by_label("Activity type").select_option(
        label=f"{today.year} · Speak at an event or webinar — 100 per item"
    )
    preview = page.locator("#claim-preview")
    preview.get_by_text("100 points").wait_for()
    assert preview.get_by_text("Evidence needed").is_visible()
    page.get_by_label("Quantity").fill("2")
    preview.get_by_text("200 points").wait_for()
    page.get_by_label("Title").fill("Webinar: connected planning for retail")
    page.get_by_label("Description").fill("Two sessions, 80 attendees.")
    page.get_by_label("Date").fill(today.isoformat())
    page.get_by_label("Evidence link").fill("https://events.example.com/retail-webinar")
    step("3-contribution-preview")
    page.get_by_role("button", name="Submit for verification").click()
    page.get_by_text("200 points claimed").wait_for()

    # 5. A verifier asks a question; the dashboard's next step leads to the answer box.
    contribution = Contribution.objects.get(member=member, requirement__isnull=True)
    verifier = with_mfa(StaffFactory(email=f"vera.{width}@example.com", first_name="Vera", groups=["Verifier"]))
    services.contribution_decide(
        contribution_id=contribution.pk, verifier=verifier, decision="needs_info", note="Which two dates?"
    )
    page.goto("/")
    page.get_by_role("link", name="Answer the verifier").first.click()
    page.get_by_text("Which two dates?", exact=True).wait_for()
    page.get_by_label("Your answer").fill("On the 2nd and the 4th, both recorded.")
    step("4-answer-the-verifier")
    page.get_by_role("button", name="Send my answer and resubmit").click()
    page.get_by_text("Your answer is sent").wait_for()
    assert page.get_by_text("On the 2nd and the 4th, both recorded.").is_visible()
    step("5-answered")
    contribution.refresh_from_db()
    assert contribution.state == Contribution.State.SUBMITTED

    # The report travels the same queue: verifying it records the training as met.
    report = Contribution.objects.get(member=member, requirement=training)
    services.contribution_decide(contribution_id=report.pk, verifier=verifier, decision="verify")
    assert RequirementStatus.objects.get(member=member, requirement=training).met_on == today
    assert not problems, "\n".join(problems)
