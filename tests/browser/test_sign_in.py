import pytest

from tests.helpers import screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_member_signs_in_through_the_real_page_and_sees_the_dashboard(page, member):
    page.goto("/")
    assert "/accounts/login/" in page.url
    screenshot(page, "sign-in")
    sign_in(page, member)
    assert page.get_by_role("heading", name="Welcome to MA Home, Ava").is_visible()  # her first sign-in
    screenshot(page, "dashboard-empty")


def test_wrong_password_shows_a_clear_message(page, member):
    sign_in(page, member, password="not-the-password")
    assert "/accounts/login/" in page.url
    assert page.get_by_text("The email address and/or password you specified are not correct.").is_visible()


def test_phone_layout_has_the_navigation(phone_page, member):
    sign_in(phone_page, member)
    # On a phone the navigation sits behind the menu button (tests/browser/test_phone_layout.py).
    phone_page.get_by_role("button", name="Menu").click()
    assert phone_page.get_by_role("navigation", name="Main").is_visible()
    screenshot(phone_page, "dashboard-phone")
