import re

import pytest
from django.core import mail

from accounts.models import Organization
from tests.factories import MACertificationFactory, OrganizationFactory, UserFactory
from tests.helpers import screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_reset_under_sso_required_names_the_button_and_the_contact(page):
    OrganizationFactory(
        name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED, domains=["contoso.example"]
    )
    UserFactory(email="kenji@contoso.example")
    page.goto("/accounts/password/reset/")
    page.get_by_label("Email").fill("kenji@contoso.example")
    page.get_by_role("button", name="Reset My Password").click()
    assert page.get_by_role("heading", name="Contoso signs you in with single sign-on").is_visible()
    assert page.get_by_text("Priya Raman").first.is_visible()
    assert mail.outbox == []
    screenshot(page, "reset-sso-required")


def test_reset_under_fallback_allowed_sends_a_link_that_sets_a_working_password(page):
    OrganizationFactory(name="Northwind", domains=["northwind.example"])
    nora = UserFactory(email="nora@northwind.example", first_name="Nora")
    nora.set_unusable_password()
    nora.save()
    page.goto("/accounts/password/reset/")
    page.get_by_label("Email").fill(nora.email)
    page.get_by_role("button", name="Reset My Password").click()
    link = re.search(r"https?://\S+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    page.goto(link)
    page.locator('input[name="password1"]').fill("a-brand-new-passphrase-2026")
    page.locator('input[name="password2"]').fill("a-brand-new-passphrase-2026")
    page.locator('input[name="password2"]').press("Enter")
    page.wait_for_load_state()
    sign_in(page, nora, password="a-brand-new-passphrase-2026")
    assert page.get_by_role("heading", name="Welcome to MA Home, Nora").is_visible()  # her first sign-in


def test_member_edits_the_profile_and_signs_out_everywhere(page, phone_page, member):
    MACertificationFactory(user=member, certificate_number="MA-2019-0042")
    sign_in(page, member)
    page.goto("/profile/")
    screenshot(page, "profile")
    page.get_by_label("Job title").fill("Lead solution architect")
    page.get_by_label("Company type").select_option("partner")
    page.get_by_label("Mentoring new Master Anaplanners").check()
    page.get_by_label("Community level emails").uncheck()
    page.get_by_role("button", name="Save profile").click()
    assert page.get_by_text("Your profile is saved.").is_visible()
    member.refresh_from_db()
    assert member.job_title == "Lead solution architect"
    assert member.interests == ["mentoring"]
    assert member.wants_email("community.level_up") is False
    sign_in(phone_page, member)
    phone_page.goto("/profile/")
    screenshot(phone_page, "profile-phone")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Sign out everywhere").click()
    page.wait_for_url("**/accounts/login/**")
    phone_page.goto("/profile/")
    assert "/accounts/login/" in phone_page.url
