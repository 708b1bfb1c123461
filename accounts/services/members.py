"""People with an account: a sign-in, and a newly certified member's account, record and invitation."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.errors import AccountError
from accounts.models import (
    MACertification,
    Organization,
    User,
)
from accounts.services.invitations import member_invite
from accounts.signals import member_certified


@transaction.atomic
def user_create(
    *,
    email: str,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    is_staff: bool = False,
    groups: tuple[str, ...] = (),
) -> User:
    """Create a person who can sign in; without a password they sign in by SSO or an invitation."""
    user = User(
        email=User.objects.normalize_email(email).lower(), first_name=first_name, last_name=last_name, is_staff=is_staff
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    _email_address_record(user=user)
    if groups:
        from django.contrib.auth.models import Group

        user.groups.set(Group.objects.filter(name__in=groups))
    return user


def member_provision_problems(*, email: str, certificate_number: str, qualified_on: date | None) -> dict[str, str]:
    """Why these details cannot make a new member, by field (empty: they can). `email` and
    `certificate_number` as `member_provision` normalizes them; the provision form and the service ask this."""
    problems: dict[str, str] = {}
    if not email:
        problems["email"] = _("An email address is required.")
    elif selectors.user_by_email(email=email) is not None:
        problems["email"] = _("%(email)s already has an account.") % {"email": email}
    if not certificate_number:
        problems["certificate_number"] = _("A certificate number is required.")
    elif MACertification.objects.filter(certificate_number=certificate_number).exists():
        problems["certificate_number"] = _("Certificate number %(number)s belongs to another member.") % {
            "number": certificate_number
        }
    if qualified_on is None:
        problems["qualified_on"] = _("A qualification date is required.")
    elif qualified_on > timezone.localdate():
        problems["qualified_on"] = _("The qualification date cannot be in the future.")
    return problems


def provision_email(email: str | None) -> str:
    return User.objects.normalize_email((email or "").strip()).lower()


@transaction.atomic
def member_provision(
    *,
    email: str,
    first_name: str,
    last_name: str,
    certificate_number: str,
    qualified_on: date,
    organization: Organization | None = None,
    employer: str = "",
    password: str | None = None,
) -> User:
    """Give a newly certified MA an account, their certification record and an invitation.

    `password` (the demo data) is set before the invitation is made: a later password change
    would invalidate the invitation's set-password link.

    "All Certified Master Anaplanners are immediately added upon becoming certified." The
    organization defaults to the one owning the email's domain. Raises AccountError (nothing
    saved, `field` set) when the email already has an account or the certificate number is taken.
    """
    email = provision_email(email)
    certificate_number = (certificate_number or "").strip()
    problems = member_provision_problems(email=email, certificate_number=certificate_number, qualified_on=qualified_on)
    for field, problem in problems.items():
        raise AccountError(problem, field=field)
    organization = organization or selectors.organization_for_email(email=email)
    user = user_create(
        email=email, first_name=(first_name or "").strip(), last_name=(last_name or "").strip(), password=password
    )
    user.organization = organization
    user.employer = (employer or "").strip() or (organization.name if organization else "")
    user.full_clean(exclude=["password"])
    user.save(update_fields=["organization", "employer"])
    _email_address_record(user=user)
    certification = MACertification(user=user, certificate_number=certificate_number, qualified_on=qualified_on)
    certification.full_clean()
    certification.save()
    # Receivers (the certificate's issuer) answer with a line for the invitation, or None.
    responses = member_certified.send(sender=MACertification, user=user, certification=certification)
    member_invite(user=user, extra_lines=tuple(str(line) for _receiver, line in responses if line))
    return user


def _email_address_record(*, user: User) -> None:
    """allauth's record of the address: the program's certification record vouches for it."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"primary": True, "verified": True})
