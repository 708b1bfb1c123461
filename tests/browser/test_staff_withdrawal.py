"""A verifier withdraws a member's sign-up in the admin: confirmation, a required reason, the member told.

Issue 11, finding 7, end to end in Debian's Chromium through the real sign-in with MFA.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import Notification
from accounts.roles import VERIFIER
from engagements.models import SignUp
from tests.factories import OpportunityFactory, SignUpFactory, StaffFactory, UserFactory
from tests.helpers import screenshot, sign_in_fast, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

REASON = "You told us by phone that you moved to another team; thank you for offering."


def test_staff_withdrawal_asks_to_confirm_needs_a_reason_and_the_member_sees_it(page, browser, live_server):
    opportunity = OpportunityFactory(title="Keynote at the spring user group", capacity=1)
    ava = UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")
    held = SignUpFactory(opportunity=opportunity, member=ava)
    waiting = SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)
    vera = with_mfa(StaffFactory(email="vera@example.com", first_name="Vera", groups=[VERIFIER]))

    sign_in_staff(page, vera)
    page.goto(f"/admin/engagements/signup/?opportunity__id__exact={opportunity.pk}")
    page.locator(f"input[name=_selected_action][value='{held.pk}']").check()
    page.locator("select[name=action]").select_option("withdraw")
    page.get_by_role("button", name="Go").click()

    # The confirmation: what will happen and to how many; nothing has happened yet.
    expect(page.get_by_role("heading", name="Withdraw sign-ups")).to_be_visible()
    assert page.get_by_text("1 member will be told by message and email, with your reason.").is_visible()
    assert page.get_by_text("1 freed slot will be offered to the next in line").is_visible()
    assert page.get_by_role("link", name="No, take me back").is_visible()
    screenshot(page, "admin-staff-withdrawal-confirm")
    held.refresh_from_db()
    assert held.state == SignUp.State.CONFIRMED

    # Without a reason the browser will not submit (the field is required); with one it goes through.
    page.get_by_role("button", name="Withdraw sign-ups").click()
    assert page.get_by_role("heading", name="Withdraw sign-ups").is_visible()
    held.refresh_from_db()
    assert held.state == SignUp.State.CONFIRMED
    page.get_by_label("Reason (sent to the member)").fill(REASON)
    page.get_by_role("button", name="Withdraw sign-ups").click()
    expect(page.get_by_text("1 sign-up withdrawn; the member was told why.")).to_be_visible()
    screenshot(page, "admin-staff-withdrawal-done")

    held.refresh_from_db()
    waiting.refresh_from_db()
    assert (held.state, held.end_note) == (SignUp.State.WITHDRAWN, REASON)
    assert waiting.state == SignUp.State.OFFERED
    assert REASON in Notification.objects.get(user=ava, kind="engagement.withdrawn").body

    # The member's own page says why.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    member_page = context.new_page()
    sign_in_fast(member_page, live_server, ava)
    member_page.goto("/engagements/mine/")
    expect(member_page.get_by_text(REASON)).to_be_visible()
    screenshot(member_page, "member-sees-staff-withdrawal-reason")
    context.close()
