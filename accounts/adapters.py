"""django-allauth is customised only here and in settings.

Single sign-on never creates an account (there is no public sign-up): it links an identity
only to the provisioned account with the asserted email, and only when that email belongs
to the connection's organization (and, for OpenID Connect, the provider says it is verified).
Every refusal ends on a page that says what happened and what to do next.
"""

import math
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal import ratelimit
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import models
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import selectors
from accounts.models import SSOConnection, password_allowed
from accounts.requests import FIRST_SIGN_IN_SESSION_KEY

# Failed password sign-ins, three limits (ACCOUNT_RATE_LIMITS, in settings). One office, one VPN or
# one partner firm shares an address, so no limit on the address alone may pause a colleague:
#   per account and address  the tight one: the person (or guesser) typing at this account from here;
#   per account              looser: a guesser spreading attempts on one account over many addresses;
#   per address              a high ceiling, only against spraying many accounts from one address.
# Each is allauth's own rate limiter (allauth/core/internal/ratelimit.py), keyed as allauth keys
# `login_failed` (allauth/account/adapter.py: _get_login_attempts_cache_key).
SIGN_IN_LIMIT_ACCOUNT_ADDRESS = "login_failed_account_address"
SIGN_IN_LIMIT_ACCOUNT = "login_failed_account"
SIGN_IN_LIMIT_ADDRESS = "login_failed_address"


def _wait_seconds(request, *, action: str, key: str | None) -> float:
    """How long until the limit `action` lets one more attempt through (0 if it does now)."""
    now = time.time()
    wait = 0.0
    for rate in ratelimit.get_rates(app="allauth.account", action=action):
        cache_key = ratelimit.get_cache_key(request, app="allauth.account", action=action, rate=rate, key=key)
        history = [ts for ts in cache.get(cache_key, []) if ts > now - rate.duration]
        if len(history) >= rate.amount:
            # History is newest first; one more attempt is allowed once the amount-th newest expires.
            wait = max(wait, history[rate.amount - 1] + rate.duration - now)
    return wait


def sign_in_paused_message(*, limit: str, seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    wait = ngettext("Try again in %(minutes)d minute", "Try again in %(minutes)d minutes", minutes) % {
        "minutes": minutes
    }
    if limit == SIGN_IN_LIMIT_ADDRESS:
        return _(
            "Too many failed sign-ins from your network address. %(wait)s. "
            "If you share this address with colleagues, they see this too; "
            "write to %(support)s if it keeps happening."
        ) % {"wait": wait, "support": settings.MAHOME_SUPPORT_EMAIL}
    return _(
        "Too many wrong passwords for this account. %(wait)s, or set a new password with "
        '"Forgot your password?". Other accounts are not affected.'
    ) % {"wait": wait}


def public_url(path: str) -> str:
    """An absolute link at MA Home's public address (MAHOME_SITE_URL), never the host a request used."""
    return f"{settings.SITE_URL.rstrip('/')}{path}"


@dataclass(frozen=True)
class PublicSite:
    """What allauth's emails call `current_site`: MA Home at its public address, never host:port."""

    name: str
    domain: str


def public_site() -> PublicSite:
    return PublicSite(name="MA Home", domain=urlsplit(settings.SITE_URL).netloc)


def _key_rate_minutes(action: str) -> int:
    """The longest per-account window of a limit, in minutes (how long a pause lasts at most)."""
    durations = [
        rate.duration for rate in ratelimit.get_rates(app="allauth.account", action=action) if rate.per == "key"
    ]
    return max(1, math.ceil(max(durations, default=300) / 60))


class AccountAdapter(DefaultAccountAdapter):
    @property
    def error_messages(self) -> dict:
        """allauth's messages, with its "Try again later" for MFA codes saying how long and whose."""
        minutes = _key_rate_minutes("login_failed")
        wait = ngettext("Wait up to %(minutes)d minute", "Wait up to %(minutes)d minutes", minutes) % {
            "minutes": minutes
        }
        return {
            **DefaultAccountAdapter.error_messages,
            "too_many_login_attempts": _(
                "Too many wrong codes for this account. %(wait)s, then try again. Other accounts are not affected."
            )
            % {"wait": wait},
        }

    def login(self, request, user) -> None:
        """Every sign-in (password, single sign-on, after an MFA code) ends here. The member's first ever
        (no `last_login`: Django stamps it while signing in) marks the session, for `is_first_visit`."""
        first = user.last_login is None
        super().login(request, user)
        if first:
            request.session[FIRST_SIGN_IN_SESSION_KEY] = True

    def is_open_for_signup(self, request) -> bool:
        # Accounts exist because a person was certified: program admins provision them.
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context = {
            **context,
            "current_site": public_site(),
            "site_url": settings.SITE_URL,
            "support_email": settings.MAHOME_SUPPORT_EMAIL,
        }
        super().send_mail(template_prefix, email, context)

    def get_reset_password_from_key_url(self, key: str) -> str:
        from allauth.account.internal import flows

        absolute = flows.password_reset.get_reset_password_from_key_url(self.request, key)
        parts = urlsplit(absolute)
        return public_url(parts.path + (f"?{parts.query}" if parts.query else ""))

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        return public_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def _sign_in_limits(self, request, **credentials) -> list[tuple[str, str | None]]:
        """(action, key) of every limit a password attempt for these credentials counts against."""
        account = self._get_login_attempts_cache_key(request, **credentials)
        address = ratelimit.get_ip(request)
        return [
            (SIGN_IN_LIMIT_ACCOUNT_ADDRESS, f"{account}@{address}"),
            (SIGN_IN_LIMIT_ACCOUNT, account),
            (SIGN_IN_LIMIT_ADDRESS, None),
        ]

    def pre_authenticate(self, request, **credentials) -> None:
        """Count the attempt against every limit; a refused one says which and for how long.

        Replaces allauth's per-address + per-account `login_failed` for passwords (MFA codes keep
        it, keyed by the member). A correct password rolls the counts back (allauth's `authenticate`
        calls `_rollback_login_failed_rl_usage`), so only failures count.
        """
        consumed = ratelimit.RateLimitUsage(usage=[])
        self._login_failed_rl_usage = consumed
        for action, key in self._sign_in_limits(request, **credentials):
            usage = ratelimit.consume(request, app="allauth.account", action=action, key=key)
            if usage is None:
                consumed.rollback()
                self._login_failed_rl_usage = None
                seconds = _wait_seconds(request, action=action, key=key)
                raise ValidationError(
                    sign_in_paused_message(limit=action, seconds=seconds), code="too_many_login_attempts"
                )
            consumed.usage.extend(usage.usage)

    def _delete_login_attempts_cached_email(self, request, **credentials) -> None:
        """A completed password reset lifts the pauses on that account (not the address ceiling)."""
        super()._delete_login_attempts_cached_email(request, **credentials)
        for action, key in self._sign_in_limits(request, **credentials):
            if key is not None:
                ratelimit.clear(request, app="allauth.account", action=action, key=key)

    def send_password_reset_mail(self, user, email: str, context: dict) -> None:
        """No reset link for a member whose organization requires SSO, whatever address they use.

        The page shown is the same as for any address (it never reveals an account), so a member
        of an "SSO required" organization cannot gain a password through a personal address.
        """
        if not password_allowed(getattr(user, "organization", None)):
            return
        super().send_password_reset_mail(user, email, context)


class SSORefused(Exception):
    class Reason(models.TextChoices):
        """Why single sign-on was refused; the refusal page explains each (it is given the enum)."""

        UNKNOWN_CONNECTION = "unknown_connection"
        NO_EMAIL = "no_email"
        FOREIGN_DOMAIN = "foreign_domain"
        UNVERIFIED = "unverified"
        OTHER_ACCOUNT = "other_account"
        NO_ACCOUNT = "no_account"

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
        raise SSORefused(SSORefused.Reason.UNKNOWN_CONNECTION)
    email, verified = _asserted_email(sociallogin)
    if not email:
        raise SSORefused(SSORefused.Reason.NO_EMAIL, connection=connection)
    domains = {d.domain for d in connection.organization.domains.all()}
    if selectors.email_domain(email) not in domains:
        raise SSORefused(SSORefused.Reason.FOREIGN_DOMAIN, email=email, connection=connection)
    if connection.kind == SSOConnection.Kind.OIDC and not verified:
        raise SSORefused(SSORefused.Reason.UNVERIFIED, email=email, connection=connection)
    if sociallogin.is_existing:
        # This identity is already linked: it must still assert that account's own email.
        if sociallogin.user.email.lower() != email:
            raise SSORefused(SSORefused.Reason.OTHER_ACCOUNT, email=email, connection=connection)
        return sociallogin.user
    user = selectors.user_by_email(email=email)
    if user is None or not user.is_active:
        raise SSORefused(SSORefused.Reason.NO_ACCOUNT, email=email, connection=connection)
    if SocialAccount.objects.filter(user=user, provider=sociallogin.account.provider).exists():
        # The account is linked to a different identity at this provider: not this one's to take.
        raise SSORefused(SSORefused.Reason.OTHER_ACCOUNT, email=email, connection=connection)
    return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def list_providers(self, request) -> list:
        """The single sign-on a page may offer: only the signed-in member's own organization's.

        Every connection is a customer's; listing them all would offer a member other companies'
        sign-in and tell everyone who the program's customers are. Sign-in itself (by email
        domain) and the login flows look connections up directly, not through this list.
        """
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.organization_id is None:
            return []
        app_ids = set(
            SSOConnection.objects.filter(organization_id=user.organization_id).values_list("social_app_id", flat=True)
        )
        return [p for p in super().list_providers(request) if p.app is not None and p.app.pk in app_ids]

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
            "Reason": SSORefused.Reason,
            "email": refusal.email,
            "organization": organization,
            "domains": [d.domain for d in organization.domains.all()] if organization else [],
            "support_email": settings.MAHOME_SUPPORT_EMAIL,
        },
        status=403,
    )
