"""django-allauth is customised only here and in settings.

Single sign-on never creates an account (there is no public sign-up): it links an identity
only to the provisioned account with the asserted email, and only when that email belongs
to the connection's organization (and, for OpenID Connect, the provider says it is verified).
Every refusal ends on a page that says what happened and what to do next.
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.shortcuts import render

from accounts import selectors
from accounts.models import SSOConnection


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts exist because a person was certified: program admins provision them.
        return False

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        """No reset link for a member whose organization requires SSO, whatever address they use.

        The page shown is the same as for any address (it never reveals an account), so a member
        of an "SSO required" organization cannot gain a password through a personal address.
        """
        organization = getattr(user, "organization", None)
        if organization is not None and organization.sso_required:
            return
        super().send_password_reset_mail(user, email, context)


class SSORefused(Exception):
    def __init__(self, reason: str, *, email: str = "", connection: SSOConnection | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.email = email
        self.connection = connection


def _is_true(value) -> bool:
    """A claim is true only when it says so: JSON true or the string "true" (never "false", "0")."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def _asserted_email(sociallogin) -> tuple[str, bool]:
    """The email the identity provider asserted, and whether it said the email is verified."""
    addresses = list(sociallogin.email_addresses or [])
    primary = next((a for a in addresses if a.primary), addresses[0] if addresses else None)
    if primary is None:
        return "", False
    verified = _is_true(primary.verified)
    claims = sociallogin.account.extra_data or {}
    if isinstance(claims, dict) and "email_verified" in claims:
        # OpenID Connect: the provider's own claim decides, as sent.
        verified = verified and _is_true(claims["email_verified"])
    return primary.email.strip().lower(), verified


def sso_login_check(sociallogin):
    """Decide which account a social login may reach; raises SSORefused otherwise.

    Returns the user the login is for (already linked, or to be linked now).
    """
    connection = selectors.sso_connection_for_provider(provider_id=sociallogin.account.provider)
    if connection is None:
        raise SSORefused("unknown_connection")
    email, verified = _asserted_email(sociallogin)
    if not email:
        raise SSORefused("no_email", connection=connection)
    domains = {d.domain for d in connection.organization.domains.all()}
    if selectors.email_domain(email) not in domains:
        raise SSORefused("foreign_domain", email=email, connection=connection)
    if connection.kind == SSOConnection.Kind.OIDC and not verified:
        raise SSORefused("unverified", email=email, connection=connection)
    if sociallogin.is_existing:
        # This identity is already linked: it must still assert that account's own email.
        if sociallogin.user.email.lower() != email:
            raise SSORefused("other_account", email=email, connection=connection)
        return sociallogin.user
    user = selectors.user_by_email(email=email)
    if user is None or not user.is_active:
        raise SSORefused("no_account", email=email, connection=connection)
    if SocialAccount.objects.filter(user=user, provider=sociallogin.account.provider).exists():
        # The account is linked to a different identity at this provider: not this one's to take.
        raise SSORefused("other_account", email=email, connection=connection)
    return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request, sociallogin) -> None:
        try:
            user = sso_login_check(sociallogin)
        except SSORefused as refusal:
            raise ImmediateHttpResponse(sso_refusal_response(request, refusal)) from refusal
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)


def sso_refusal_response(request, refusal: SSORefused):
    connection = refusal.connection
    organization = connection.organization if connection else None
    return render(
        request,
        "accounts/sso_refused.html",
        {
            "reason": refusal.reason,
            "email": refusal.email,
            "organization": organization,
            "domains": [d.domain for d in organization.domains.all()] if organization else [],
            "support_email": settings.MAHOME_SUPPORT_EMAIL,
        },
        status=403,
    )
