"""A program admin takes back a member's opt-out in the admin: a required reason, the member told.

Found walking the demo: "Delete selected opt-outs" removed a member's opt-out with no reason and no
word to them. End to end in Debian's Chromium through the real sign-in with MFA.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import PROGRAM_ADMIN
from contributions import services
from contributions.models import OptOut
from tests.factories import MACertificationFactory, ProgramYearFactory, StaffFactory, UserFactory
from tests.helpers import screenshot, sign_in_fast, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

REASON = "Dan wrote on 2 March that his leave was cancelled."


def test_a_program_admin_takes_back_an_opt_out_with_a_reason_and_the_member_reads_it(page, browser, live_server):
    year = ProgramYearFactory(year=timezone.localdate().year + 1, published_at=timezone.now())
    dan = UserFactory(email="dan@example.com", first_name="Dan", last_name="Fischer")
    MACertificationFactory(user=dan)
    opt_out = services.opt_out_create(member=dan, program_year=year, reason="Parental leave")
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))

    sign_in_staff(page, paul)
    page.goto("/admin/contributions/optout/")
    expect(page.get_by_role("heading", name="Opt-outs: the members' own choice")).to_be_visible()
    assert page.locator("select[name=action] option[value=delete_selected]").count() == 0
    page.locator(f"#result_list a[href$='/optout/{opt_out.pk}/change/']").click()
    page.get_by_role("link", name="Take back this opt-out (with a reason)").click()
    expect(page.get_by_text("opted out of maintaining")).to_be_visible()

    page.get_by_role("button", name="Take back the opt-out").click()  # no reason: refused, nothing done
    expect(page.get_by_text("This field is required.")).to_be_visible()
    assert OptOut.objects.filter(pk=opt_out.pk).exists()
    page.get_by_label("Reason (sent to the member)").fill(REASON)
    screenshot(page, "admin-opt-out-take-back")
    page.get_by_role("button", name="Take back the opt-out").click()
    expect(page.get_by_text(f"opt-out of {year.year} was taken back; they were told why.")).to_be_visible()
    assert not OptOut.objects.filter(pk=opt_out.pk).exists()
    ended = page.locator("#opt-outs-ended")  # still found on the list, with who took it back and why
    expect(ended).to_contain_text("Taken back by Paul")
    expect(ended).to_contain_text(REASON)
    screenshot(page, "admin-opt-outs-ended")

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    member_page = context.new_page()
    sign_in_fast(member_page, live_server, dan)
    member_page.goto("/notifications/")
    expect(member_page.get_by_text(f"You maintain your certification in {year.year} again")).to_be_visible()
    expect(member_page.get_by_text(REASON)).to_be_visible()
    screenshot(member_page, "member-reads-opt-out-taken-back")
    context.close()
