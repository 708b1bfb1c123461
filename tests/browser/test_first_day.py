"""A newly provisioned MA's first day, at desktop and phone width (issue 13, findings 6, 9 and 10).

Invitation email → "Choose your password" → "Your password is set" → sign in → dashboard → the
help page and the service status from the footer → their own account pages. Screenshots of each
step are saved as var/screenshots/first-day-<width>-<step>.png.
"""

from datetime import date

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts import services
from tests.factories import OrganizationFactory
from tests.helpers import screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "a-first-day-passphrase-2026"


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_new_ma_goes_from_the_invitation_to_the_dashboard(width, page, phone_page):
    browser_page = page if width == "desktop" else phone_page
    OrganizationFactory(name="Northwind Partners", domains=["northwind.example"])
    email = f"new.ma.{width}@northwind.example"
    user = services.member_provision(
        email=email,
        first_name="Noor",
        last_name="Haddad",
        certificate_number=f"MA-2026-{900 if width == 'desktop' else 901}",
        qualified_on=date(2026, 7, 1),
    )
    invitation = next(message for message in mail.outbox if email in message.to)
    assert "MA Home" in invitation.subject
    path = user.notifications.get(kind="account.invitation").email_url
    assert path in invitation.body

    def shot(step: str) -> None:
        screenshot(browser_page, f"first-day-{width}-{step}")

    browser_page.goto(path)
    expect(browser_page.get_by_role("heading", name="Choose your password")).to_be_visible()
    shot("1-choose-password")
    browser_page.get_by_label("Password", exact=True).fill(PASSWORD)
    browser_page.get_by_label("Password, again").fill(PASSWORD)
    browser_page.get_by_role("button", name="Save password").click()
    expect(browser_page.get_by_role("heading", name="Your password is set")).to_be_visible()
    shot("2-password-set")
    browser_page.get_by_role("link", name="Sign in", exact=True).last.click()
    browser_page.get_by_label("Email").fill(email)
    browser_page.get_by_role("button", name="Continue").click()
    browser_page.get_by_label("Password").fill(PASSWORD)
    browser_page.get_by_role("button", name="Sign in", exact=True).click()
    expect(browser_page.get_by_role("heading", name="Welcome to MA Home, Noor")).to_be_visible()
    shot("3-dashboard")

    browser_page.get_by_role("link", name="How the program works").click()
    expect(browser_page.get_by_role("heading", name="How the program works")).to_be_visible()
    shot("4-help")
    browser_page.get_by_role("link", name="Service status").click()
    expect(browser_page.get_by_role("heading", name="Service status")).to_be_visible()
    shot("5-status")

    if width == "phone":
        browser_page.get_by_role("button", name="Menu").click()
    browser_page.get_by_role("navigation", name="Main").get_by_role("link", name="Profile").click()
    browser_page.get_by_role("link", name="Where you are signed in").click()
    expect(browser_page.get_by_role("heading", name="Where you are signed in")).to_be_visible()
    expect(browser_page.get_by_text("This device")).to_be_visible()
    overflow = browser_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot("6-sessions")
    browser_page.goto("/accounts/email/")
    expect(browser_page.get_by_text("Verified", exact=True)).to_be_visible()
    shot("7-email")
