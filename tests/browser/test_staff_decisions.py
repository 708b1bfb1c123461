"""Staff correct a decision and run the final year-end review, in Debian's Chromium through the
real sign-in with MFA (issue 11, findings 4 and 5)."""

from datetime import date

import pytest
from playwright.sync_api import expect

from accounts.models import Notification
from accounts.roles import PROGRAM_ADMIN, VERIFIER
from contributions import services
from contributions.models import Contribution, ReviewOutcome, ReviewRun
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import screenshot, sign_in_fast, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_verifier_corrects_a_decision_and_the_member_sees_why(page, browser, live_server):
    year = ProgramYearFactory(year=2026, target_points=400)
    teaching = ActivityTypeFactory(program_year=year, code="teach", name="Teach a class", points=60)
    ava = UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")
    MACertificationFactory(user=ava, qualified_on=date(2024, 3, 10))
    vera = with_mfa(StaffFactory(email="vera@example.com", first_name="Vera", groups=[VERIFIER]))
    talk = ContributionFactory(member=ava, activity_type=teaching, title="Level 1 class")
    services.contribution_decide(contribution_id=talk.pk, verifier=vera, decision="verify")

    sign_in_staff(page, vera)
    page.goto("/admin/contributions/contribution/?state=verified")
    page.get_by_role("link", name="Correct or reopen").click()
    expect(page.get_by_role("heading", name="Level 1 class", exact=True)).to_be_visible()
    assert page.get_by_text("at most 60 points: the type's points for the claimed quantity").is_visible()
    assert page.get_by_label("Override reason").count() == 0  # a verifier cannot override the bound

    # Above the bound: refused with the reason, nothing changes.
    page.get_by_label("Verified, at the points below").check()
    page.get_by_label("Awarded points").fill("100000")
    page.get_by_label("Reason, shown to the member").fill("Typo")
    page.get_by_role("button", name="Record the correction").click()
    expect(page.get_by_text("can be awarded at most 60 points")).to_be_visible()
    talk.refresh_from_db()
    assert talk.awarded_points == 60

    page.get_by_label("Verified, at the points below").check()
    page.get_by_label("Awarded points").fill("30")
    page.get_by_label("Reason, shown to the member").fill("The class ran for half a day, so half the points.")
    screenshot(page, "admin-correct-decision")
    page.get_by_role("button", name="Record the correction").click()
    expect(page.get_by_text("“Level 1 class” corrected; the member has been told why.")).to_be_visible()
    talk.refresh_from_db()
    assert (talk.state, talk.awarded_points, talk.decided_by) == (Contribution.State.VERIFIED, 30, vera)
    assert talk.history.latest().history_user == vera
    assert Notification.objects.filter(user=ava, kind="maintenance.decision").count() == 2

    member = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    member_page = member.new_page()
    sign_in_fast(member_page, live_server, ava)
    member_page.goto(f"/contributions/{talk.pk}/")
    expect(member_page.get_by_text("The class ran for half a day, so half the points.").first).to_be_visible()
    expect(member_page.get_by_text("30 awarded")).to_be_visible()
    screenshot(member_page, "member-sees-corrected-decision")
    member.close()


def test_the_final_review_asks_to_confirm_then_says_who_ran_it(page, live_server):
    year = ProgramYearFactory(year=2021, notification_on=date(2022, 1, 15))
    activity_type = ActivityTypeFactory(program_year=year, points=100)
    for email, points in [("recert@example.com", 400), ("short@example.com", 300)]:
        user = UserFactory(email=email)
        MACertificationFactory(user=user, qualified_on=date(2019, 1, 1))
        ContributionFactory(
            member=user, activity_type=activity_type, claimed_points=points, awarded_points=points, state="verified"
        )
    short = UserFactory._meta.model.objects.get(email="short@example.com")
    ContributionFactory(member=short, activity_type=activity_type, claimed_points=100, state="needs_info")
    paul = with_mfa(
        StaffFactory(email="paul@example.com", first_name="Paul", last_name="Moreau", groups=[PROGRAM_ADMIN])
    )

    sign_in_staff(page, paul)
    page.goto(f"/admin/contributions/programyear/{year.pk}/review/")
    expect(page.get_by_text("Dry run: nothing has been written.")).to_be_visible()
    expect(page.get_by_text("Would meet the target if verified")).to_be_visible()
    page.get_by_role("button", name="Run the final review…").click()

    expect(page.get_by_role("heading", name="Confirm the final review")).to_be_visible()
    assert page.get_by_text("record 2 review outcomes").is_visible()
    assert page.get_by_text("issue 1 certificate").is_visible()
    assert page.get_by_text("2 members will be notified").is_visible()
    screenshot(page, "admin-final-review-confirm")
    assert not ReviewOutcome.objects.exists() and not ReviewRun.objects.exists()

    page.get_by_role("button", name="Yes, run the final review").click()
    expect(page.get_by_text("Final review recorded: 2 outcomes, 1 certificate; 2 members to notify.")).to_be_visible()
    expect(page.get_by_text("The final review ran on")).to_be_visible()
    expect(page.get_by_text("by Paul Moreau.")).to_be_visible()
    assert page.get_by_role("button", name="Run the final review…").count() == 0
    assert page.get_by_text("Dry run: nothing has been written.").count() == 0
    screenshot(page, "admin-final-review-already-ran")
    run = ReviewRun.objects.get()
    assert (run.run_by, run.outcomes, run.certificates) == (paul, 2, 1)
