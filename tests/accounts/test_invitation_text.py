"""The pure parts of the invitation and the notification email: the invitation's paragraphs
(`invitation_lines`) and which preference decides an email (`email_preference_field`), without a database."""

from datetime import date

import pytest

from accounts.models import Organization, User, email_preference_field
from accounts.services import invitation_lines

SIGN_IN = "https://mahome.example.com/accounts/login/?email=ava%40example.com"


def _lines(**overrides) -> list[str]:
    arguments = {
        "user": User(email="ava@example.com", first_name="Ava"),
        "organization": None,
        "qualified_on": None,
        "password_days": 14,
        "sso_button": None,
        "sign_in_url": SIGN_IN,
    } | overrides
    return invitation_lines(**arguments)


def test_a_member_with_a_password_gets_the_welcome_and_the_links_validity():
    lines = _lines()
    assert lines[0] == "Welcome to MA Home, Ava."
    assert lines[-1].startswith("Choose your password with the link below (valid for 14 days;")
    assert not any("single sign-on" in line for line in lines)


def test_the_certification_and_extra_lines_come_before_the_sign_in_paragraphs():
    lines = _lines(qualified_on=date(2026, 3, 2), extra_lines=("Your certificate: MA-7.",))
    assert lines[2:4] == ["Certified on 2 Mar 2026.", "Your certificate: MA-7."]
    assert lines[4].startswith("Choose your password")


def test_an_sso_organization_with_a_connection_names_its_button_and_no_password():
    organization = Organization(name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED)
    lines = _lines(organization=organization, password_days=None, sso_button="Sign in with Contoso")
    assert not any("password" in line.lower() for line in lines)
    assert lines[-1] == (
        "You can also sign in with your organization's single sign-on: "
        f'enter ava@example.com on {SIGN_IN} and choose "Sign in with Contoso".'
    )


def test_an_sso_organization_without_a_connection_says_whom_to_contact():
    organization = Organization(
        name="Contoso",
        fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED,
        contact_name="Priya Raman",
        contact_email="priya@contoso.example",
    )
    lines = _lines(organization=organization, password_days=None)
    assert lines[-1] == (
        "Contoso signs you in with single sign-on; contact Priya Raman <priya@contoso.example> if it does not work."
    )


def test_the_app_copy_has_no_link_below_and_says_where_the_password_is_changed():
    """The member reads it signed in: the set-password link is the email's alone."""
    lines = _lines(in_app=True, extra_lines=("Your certificate: MA-7.",))
    assert not any("below" in line or "link" in line for line in lines)
    assert lines[:3] == _lines(extra_lines=("Your certificate: MA-7.",))[:3]
    assert lines[-1] == (
        'You can change your password, or set one, at any time: Profile, then "Change or set your password".'
    )


def test_the_app_copy_where_the_organization_requires_sso_names_no_password():
    organization = Organization(name="Contoso", fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED)
    lines = _lines(in_app=True, organization=organization, password_days=None, sso_button="Sign in with Contoso")
    assert not any("password" in line.lower() for line in lines)
    assert lines == _lines(organization=organization, password_days=None, sso_button="Sign in with Contoso")


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ("engagement.offered", "email_engagement"),
        ("community.level_up", "email_community"),
        ("maintenance.program_message", "email_maintenance"),
        ("account.password_changed", "email_account"),
        ("account.invitation", None),
        ("contribution.decided", None),
    ],
)
def test_the_preference_that_decides_an_email_follows_the_kinds_area(kind, field):
    assert email_preference_field(kind) == field
    member = User(email_engagement=False, email_community=False, email_maintenance=False, email_account=False)
    assert member.wants_email(kind) is (field is None)
