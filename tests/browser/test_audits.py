"""Issue 17 item 8 in Debian's Chromium: a member answers an audit on their item, a verifier reads the
sample with its reasons and reverses the claim through the conclusion page."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import VERIFIER
from contributions.models import Audit, Contribution
from contributions.services import audits as audit_services
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import screenshot, sign_in, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_member_answers_an_audit_and_a_verifier_reverses_the_claim(browser, live_server):
    year = ProgramYearFactory(year=timezone.localdate().year)
    blog = ActivityTypeFactory(program_year=year, code="blog", name="Blog post", points=20)
    member = UserFactory(email="ana@example.com", first_name="Ana", last_name="Silva")
    MACertificationFactory(user=member, qualified_on=date(year.year - 1, 6, 1))
    vera = with_mfa(StaffFactory(email="vera@example.com", first_name="Vera", groups=[VERIFIER]))
    claim = ContributionFactory(
        member=member,
        activity_type=blog,
        title="Modelling tips on my blog",
        state=Contribution.State.VERIFIED,
        awarded_points=20,
        decided_by=vera,
        decided_at=timezone.now() - timedelta(days=1),
        evidence_url="https://blog.example/tips",
    )
    audit = audit_services.audit_open(
        contribution_id=claim.pk, reasons=["first_of_type", "link_only"], probability=0.15, run=None
    )

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, member)
    page.goto(f"/contributions/{claim.pk}/")
    expect(page.get_by_role("heading", name="This contribution was selected for an audit")).to_be_visible()
    page.get_by_label("Your evidence").fill("The post is online; the draft history is in my drive.")
    page.get_by_label("Link to the evidence (optional)").fill("https://blog.example/tips?history")
    page.get_by_role("button", name="Send my evidence").click()
    expect(page.get_by_text("Thank you: your evidence is with the program team.")).to_be_visible()
    screenshot(page, "member-audit-answered")
    context.close()

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in_staff(page, vera)
    page.goto("/admin/contributions/audit/")
    expect(page.get_by_role("heading", name="Audits: the sample, why each claim was chosen")).to_be_visible()
    row = page.locator("#result_list tbody tr", has_text="Modelling tips")
    expect(row).to_contain_text("The member's first claim of this type; Evidence by link only")
    expect(row).to_contain_text("Answered by the member")
    page.get_by_role("button", name="Toggle navigation").click()
    screenshot(page, "admin-audits-list")
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("reverse_claims")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_text("1 audit will be concluded and its member told.")).to_be_visible()
    page.get_by_label("What the evidence showed").fill("The post was published after the year's deadline.")
    page.get_by_role("button", name="Reverse the claims").click()
    expect(page.get_by_text("1 audit concluded.")).to_be_visible()
    context.close()

    audit.refresh_from_db()
    claim.refresh_from_db()
    assert audit.state == Audit.State.REVERSED and claim.state == Contribution.State.REJECTED
