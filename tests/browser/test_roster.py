"""A program admin provisions a newly certified MA from the MA roster, in Debian's Chromium through
the real sign-in with MFA (issue 11, finding 1); a verifier sees the roster without the buttons and
gets the admin's own 403 page for the provisioning form (finding 3)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import INVITATION_KIND, Invitation, Notification, User
from accounts.roles import PROGRAM_ADMIN, VERIFIER
from tests.factories import (
    MACertificationFactory,
    NotificationFactory,
    OrganizationFactory,
    StaffFactory,
    UserFactory,
)
from tests.helpers import screenshot, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _roster() -> None:
    contoso = OrganizationFactory(name="Contoso Planning", domains=["contoso.example"])
    kenji = UserFactory(email="kenji@contoso.example", first_name="Kenji", last_name="Sato", organization=contoso)
    MACertificationFactory(user=kenji, certificate_number="MA-2025-0402", qualified_on=date(2025, 7, 1))


def test_a_program_admin_provisions_an_ma_from_the_roster_and_returns_to_it(page):
    _roster()
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    sign_in_staff(page, paul)
    page.goto("/admin/accounts/macertification/")
    expect(page.get_by_role("heading", name="MA roster: every certified Master Anaplanner")).to_be_visible()
    expect(page.get_by_role("link", name="Import newly certified MAs")).to_be_visible()
    page.get_by_role("link", name="Add a newly certified MA").click()

    page.get_by_label("Email").fill("lucia.ferreira@contoso.example")
    page.get_by_label("First name").fill("Lúcia")
    page.get_by_label("Last name").fill("Ferreira")
    page.get_by_label("Certificate number").fill("MA-2026-0311")
    page.get_by_label("Qualified on").fill("2026-03-02")
    page.get_by_role("button", name="Add and invite").click()
    page.wait_for_load_state()

    assert page.url.endswith("/admin/accounts/macertification/")
    expect(page.get_by_text("Lúcia Ferreira was added and invited by email.")).to_be_visible()
    row = page.locator("#result_list tbody tr", has_text="MA-2026-0311")
    expect(row).to_contain_text("Lúcia Ferreira")
    expect(row).to_contain_text("Contoso Planning")  # from the email's domain
    expect(row).to_contain_text("Invited on")  # and until when its link works (issue 17 item 1)
    expect(row).to_contain_text("link valid until")
    page.get_by_role("button", name="Toggle navigation").click()  # staff fold the sidebar away on a list
    screenshot(page, "admin-roster-after-provisioning")
    assert User.objects.get(email="lucia.ferreira@contoso.example").certification.certificate_number == "MA-2026-0311"

    page.locator("#searchbar").fill("MA-2025-0402")
    page.locator("#changelist-search").get_by_role("button", name="Search").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Kenji Sato")


def test_a_verifier_reads_the_roster_without_buttons_and_is_refused_the_form_inside_the_admin(page):
    _roster()
    vera = with_mfa(StaffFactory(email="vera@example.com", first_name="Vera", groups=[VERIFIER]))
    sign_in_staff(page, vera)
    page.goto("/admin/accounts/macertification/")
    expect(page.locator("#result_list")).to_contain_text("MA-2025-0402")
    expect(page.get_by_role("link", name="Add a newly certified MA")).to_have_count(0)
    page.goto("/admin/accounts/macertification/provision/")
    expect(page.get_by_text("MA Home — program administration")).to_be_visible()
    expect(page.get_by_role("heading", name="You do not have permission to open this page")).to_be_visible()
    screenshot(page, "admin-403-for-a-verifier")


def test_the_roster_fits_beside_the_navigation_at_1280(page):
    """The walk, on the demo data: the roster was 827 px in 631 beside the navigation and the filters, so
    the Invitation and Last sign-in columns (what the weekly resend looks at) were scrolled out of sight."""
    _roster()
    omar = UserFactory(email="omar.haddad@northwind.example", first_name="Omar", last_name="Haddad")
    MACertificationFactory(user=omar, certificate_number="MA-2024-0318", qualified_on=date(2024, 9, 20))
    Invitation.objects.create(
        user=omar,
        valid_until=timezone.now() + timedelta(days=14),
        notification=NotificationFactory(user=omar, kind=INVITATION_KIND, email_state=Notification.EmailState.SENT),
    )
    ava = UserFactory(email="ava.member@example.com", first_name="Ava", last_name="Patel", last_login=timezone.now())
    MACertificationFactory(user=ava, certificate_number="MA-2024-00001", qualified_on=date(2024, 3, 10))
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    sign_in_staff(page, paul)
    page.goto("/admin/accounts/macertification/")
    expect(page.locator("#result_list")).to_contain_text("link valid until")
    expect(page.locator("#result_list")).to_contain_text("omar.haddad@northwind.example")
    table, room = page.locator("#result_list").evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert table <= room, f"the roster is {table} px wide in {room}"
    screenshot(page, "admin-roster-1280")
