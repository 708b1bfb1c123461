"""The invitation's set-password link: allauth's password-reset key, with the invitation's own validity.

A forgotten-password link expires after `PASSWORD_RESET_TIMEOUT` (3 days); an invitation's link
after `MAHOME_INVITATION_VALID_DAYS` (14 by default). Both open allauth's reset-from-key page, so
the generator allauth uses (`ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR`) accepts either: a reset
token under the reset timeout, or an invitation token (made with its own salt, so a reset token can
never pass as an invitation) under the invitation timeout. Each is bound, as Django's are, to the
password hash, the last sign-in and the email addresses: signing in or choosing a password ends it.
"""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class _EmailAwareTokenGenerator(PasswordResetTokenGenerator):
    """Django's generator with allauth's addition: the member's email addresses are part of the hash.

    As allauth.account.forms.EmailAwarePasswordResetTokenGenerator (allauth 65.21), which cannot be
    imported here: allauth builds its generator from this module while importing that one.
    """

    timeout_seconds: int | None = None  # None: settings.PASSWORD_RESET_TIMEOUT

    def _make_hash_value(self, user, timestamp) -> str:
        from allauth.account.internal.flows.manage_email import sync_user_email_address
        from allauth.account.models import EmailAddress
        from allauth.account.utils import user_email

        value = super()._make_hash_value(user, timestamp)
        sync_user_email_address(user)
        email = user_email(user)
        emails = {email} if email else set()
        emails.update(EmailAddress.objects.filter(user_id=user.pk).values_list("email", flat=True))
        return value + "|".join(sorted(emails))

    def _timeout(self) -> int:
        return self.timeout_seconds if self.timeout_seconds is not None else settings.PASSWORD_RESET_TIMEOUT

    def check_token(self, user, token) -> bool:
        """Django's check (django/contrib/auth/tokens.py, 5.2) with this generator's own timeout."""
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return (self._num_seconds(self._now()) - ts) <= self._timeout()


def invitation_valid_days() -> int:
    return max(1, int(settings.MAHOME_INVITATION_VALID_DAYS))


class InvitationTokenGenerator(_EmailAwareTokenGenerator):
    key_salt = "mahome.accounts.invitation"

    def _timeout(self) -> int:
        return invitation_valid_days() * 86400


class PasswordResetOrInvitationTokenGenerator(_EmailAwareTokenGenerator):
    """What allauth's reset-from-key page checks: a forgotten-password key or an invitation key."""

    def check_token(self, user, token) -> bool:
        return super().check_token(user, token) or InvitationTokenGenerator().check_token(user, token)


invitation_token_generator = InvitationTokenGenerator()
