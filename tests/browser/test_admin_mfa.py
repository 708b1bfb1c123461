"""Staff reach the admin through the same sign-in, plus their authenticator code."""

import pytest

from tests.factories import StaffFactory
from tests.helpers import screenshot, sign_in, staff_code, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_staff_sign_in_with_password_and_code_and_reach_the_admin(page):
    staff = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=["Program admin"]))
    sign_in(page, staff)
    assert "/accounts/2fa/authenticate/" in page.url
    screenshot(page, "sign-in-mfa-code")
    page.get_by_label("Authenticator code").fill("000000" if staff_code() != "000000" else "111111")
    page.get_by_role("button", name="Sign In").click()
    assert page.get_by_text("Incorrect code.").is_visible()
    page.get_by_label("Authenticator code").fill(staff_code())
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)  # the code's POST done before goto
    page.goto("/admin/")
    assert page.get_by_role("heading", name="Program administration").is_visible()


def test_staff_without_an_authenticator_are_sent_to_set_one_up(page):
    staff = StaffFactory(email="vera@example.com", first_name="Vera", groups=["Verifier"])
    sign_in(page, staff)
    page.goto("/admin/")
    # allauth asks for the password again, then opens the authenticator set-up.
    assert "2fa%2Ftotp%2Factivate" in page.url or "/accounts/2fa/totp/activate/" in page.url
    assert "/admin/" not in page.url.split("?")[0]
    assert page.get_by_text("Staff must set up two-factor authentication").is_visible()
