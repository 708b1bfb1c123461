"""The invitation and its set-password link; whether a password is allowed, in the words members read."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import (
    INVITATION_KIND,
    Invitation,
    Organization,
    User,
    password_allowed,
)
from accounts.services.notifications import notification_create


def member_invitation_path(*, user: User) -> str:
    """A set-password link for an invitation: valid `MAHOME_INVITATION_VALID_DAYS` (see invitation_links)."""
    from allauth.account.utils import user_pk_to_url_str

    from accounts.invitation_links import invitation_token_generator

    return reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": invitation_token_generator.make_token(user)},
    )


def password_refusal(*, organization: Organization | None) -> str | None:
    """Why a member of `organization` cannot use a password (None when `password_allowed`), naming the button
    and whom to call; the sign-in form and the sign-in page say the same words."""
    if organization is None or password_allowed(organization):  # no organization: a password is allowed
        return None
    return _(
        '%(organization)s requires single sign-on: use the "Sign in with %(organization)s" button. '
        "If it does not work, contact %(contact)s."
    ) % {"organization": organization.name, "contact": organization_contact_text(organization=organization)}


def member_invite(*, user: User, sent_by: User | None = None, extra_lines: tuple[str, ...] = ()) -> Invitation:
    """Send the invitation: a sign-in link, a set-password link where a password is allowed, the SSO button.

    The email carries the link; the app's copy, which the member reads signed in (when the link no
    longer works: signing in ends it), says instead where to change or set the password and opens that page.
    Every send is recorded (`Invitation`) with who sent it (None: MA Home, on provisioning) and until
    when its link works; a resend is a new notification with a fresh link, the earlier one stays.
    """
    from accounts.invitation_links import invitation_valid_days

    organization = user.organization
    sign_in_path = f"{reverse('account_login')}?{urlencode({'email': user.email})}"
    certification = getattr(user, "certification", None)
    connections = list(organization.sso_connections.all()) if organization else []
    now = timezone.now()
    email_url, app_url, valid_until, days = sign_in_path, reverse("dashboard"), None, None
    if password_allowed(organization):
        email_url, app_url = member_invitation_path(user=user), reverse("account_change_password")
        days = invitation_valid_days()
        valid_until = now + timedelta(days=days)

    def text(*, in_app: bool) -> str:
        return "\n\n".join(
            invitation_lines(
                user=user,
                organization=organization,
                qualified_on=certification.qualified_on if certification is not None else None,
                password_days=days,
                password_url=None if in_app or days is None else f"{settings.SITE_URL}{email_url}",
                sso_button=connections[0].label if connections else None,
                sign_in_url=f"{settings.SITE_URL}{sign_in_path}",
                extra_lines=extra_lines,
                in_app=in_app,
            )
        )

    invitation = Invitation(user=user, sent_at=now, sent_by=sent_by, valid_until=valid_until)
    invitation.full_clean(exclude=["user", "sent_by"])
    invitation.save()
    invitation.notification = notification_create(
        user=user,
        kind=INVITATION_KIND,
        title=_("You have been added to MA Home"),
        body=text(in_app=True),
        url=app_url,
        email_body=text(in_app=False),
        email_url=email_url,
        # The first invitation once (provisioning twice sends one); each resend is its own.
        dedupe_key="invitation" if sent_by is None else f"invitation:{invitation.pk}",
    )
    if invitation.notification is not None:
        invitation.save(update_fields=["notification"])
    return invitation


def invitation_lines(
    *,
    user: User,
    organization: Organization | None,
    qualified_on: date | None,
    password_days: int | None,
    sso_button: str | None,
    password_url: str | None = None,
    sign_in_url: str,
    extra_lines: tuple[str, ...] = (),
    in_app: bool = False,
) -> list[str]:
    """The invitation's paragraphs (no database): the welcome, the certification, the set-password
    link's validity (`password_days`; None where the organization allows no password) with the link
    itself right under it (`password_url`, the email's), and how to sign in by single sign-on
    (`sso_button`: the first connection's label) or whom to contact.

    `in_app`: the copy shown in the app, to a member signed in already. It has no set-password link
    (that is the email's, and signing in ended it), so where a password is allowed it says where the
    member changes or sets one instead.
    """
    lines = [
        _("Welcome to MA Home, %(name)s.") % {"name": user.display_name},
        _("Your account is ready: it keeps your certification, your contributions and your opportunities together."),
    ]
    if qualified_on is not None:
        lines.append(_("Certified on %(date)s.") % {"date": date_format(qualified_on)})
    lines.extend(extra_lines)
    if password_days is not None and in_app:
        lines.append(
            _('You can change your password, or set one, at any time: Profile, then "Change or set your password".')
        )
    elif password_days is not None:
        lines.append(
            _(
                "Choose your password with the link below (valid for %(days)s days; afterwards use "
                '"Forgot your password?" on the sign-in page).'
            )
            % {"days": password_days}
        )
        if password_url is not None:
            lines.append(password_url)
    if sso_button is not None:
        lines.append(
            _(
                "You can also sign in with your organization's single sign-on: "
                'enter %(email)s on %(link)s and choose "%(button)s".'
            )
            % {"email": user.email, "link": sign_in_url, "button": sso_button}
        )
    elif organization is not None and organization.sso_required:
        lines.append(
            _("%(organization)s signs you in with single sign-on; contact %(contact)s if it does not work.")
            % {"organization": organization.name, "contact": organization_contact_text(organization=organization)}
        )
    return lines


def invitation_resend_refusal(*, user: User) -> str | None:
    """Why a member gets no new invitation (None: they may). The confirmation page and the service ask this."""
    if user.last_login is not None:
        return _("has already signed in")
    if not user.is_active:
        return _("the account is deactivated")
    return None


@dataclass(frozen=True)
class InvitationResend:
    sent: list[Invitation]
    skipped: list[tuple[User, str]]


def invitations_resend(*, users: list[User], actor: User) -> InvitationResend:
    """Send each member a fresh invitation (a new link, valid `MAHOME_INVITATION_VALID_DAYS`), once each.

    Each member's row is locked while their invitation is made, so two program admins resending at
    the same moment cannot interleave; who sent it is recorded on the invitation.
    """
    sent, skipped = [], []
    for user_id in sorted({u.pk for u in users}):
        with transaction.atomic():
            user = (
                User.objects.select_for_update(of=("self",), no_key=True).select_related("organization").get(pk=user_id)
            )
            reason = invitation_resend_refusal(user=user)
            if reason is not None:
                skipped.append((user, reason))
                continue
            sent.append(member_invite(user=user, sent_by=actor))
    return InvitationResend(sent=sent, skipped=skipped)


def organization_contact_text(*, organization: Organization) -> str:
    if organization.contact_email:
        return f"{organization.contact_name} <{organization.contact_email}>"
    return organization.contact_name
