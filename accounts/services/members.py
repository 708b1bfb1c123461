"""People with an account: a sign-in, and a newly certified member's account, record and invitation."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.errors import AccountError
from accounts.models import (
    FIRST_QUALIFICATION_DAY,
    ISSUED_CERTIFICATE_NUMBER_FORM,
    MACertification,
    Organization,
    User,
    is_issued_certificate_number,
    issued_certificate_number_member_id,
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


def certification_number_problem(*, number: str, holder: User | None = None) -> str | None:
    """Why `number` (stripped) cannot be the number of `holder`'s certification, or of a new one when
    `holder` is None (None: it can). The one rule for every writer of the number: provisioning, the
    import and the roster's change form.

    A number of the form of the certificate numbers MA Home issues is refused whether or not a
    certificate has it yet (they are derived from member numbers, so it would be a later member's),
    and naming the member whose certificates it is the number of; PostgreSQL refuses it too
    (`certification_number_not_a_certificate_number`), as it refuses a number already taken.
    """
    if not number:
        return _("A certificate number is required.")
    if is_issued_certificate_number(number):
        member_id = issued_certificate_number_member_id(number)
        owner = User.objects.filter(pk=member_id).first() if member_id is not None else None
        words = {"number": number, "form": ISSUED_CERTIFICATE_NUMBER_FORM}
        if owner is not None:
            return _(
                "%(number)s is a certificate number of %(member)s (%(email)s): numbers of the form %(form)s "
                "are the ones MA Home gives certificates. Enter the number of this certification record instead."
            ) % {**words, "member": owner.get_full_name() or owner.email, "email": owner.email}
        return (
            _(
                "Numbers of the form %(form)s, such as %(number)s, are the ones MA Home gives certificates. "
                "Enter the number of this certification record instead."
            )
            % words
        )
    taken = MACertification.objects.filter(certificate_number=number)
    if holder is not None:
        taken = taken.exclude(user=holder)
    if taken.exists():
        return _("Certificate number %(number)s belongs to another member.") % {"number": number}
    return None


def qualification_date_problem(*, qualified_on: date | None) -> str | None:
    """Why `qualified_on` is not a plausible qualification date (None: it is): it is required, not in
    the future and not before the program could have certified anyone (FIRST_QUALIFICATION_DAY)."""
    if qualified_on is None:
        return _("A qualification date is required.")
    if qualified_on > timezone.localdate():
        return _("The qualification date cannot be in the future.")
    if qualified_on < FIRST_QUALIFICATION_DAY:
        return _(
            "The qualification date %(date)s is before %(first)s, before anyone was certified as a Master "
            "Anaplanner; check the year."
        ) % {"date": qualified_on.isoformat(), "first": FIRST_QUALIFICATION_DAY.isoformat()}
    return None


def member_provision_problems(*, email: str, certificate_number: str, qualified_on: date | None) -> dict[str, str]:
    """Why these details cannot make a new member, by field (empty: they can). `email` and
    `certificate_number` as `member_provision` normalizes them; the provision form and the service ask this."""
    problems: dict[str, str] = {}
    if not email:
        problems["email"] = _("An email address is required.")
    elif selectors.user_by_email(email=email) is not None:
        problems["email"] = _("%(email)s already has an account.") % {"email": email}
    number_problem = certification_number_problem(number=certificate_number)
    if number_problem:
        problems["certificate_number"] = number_problem
    date_problem = qualification_date_problem(qualified_on=qualified_on)
    if date_problem:
        problems["qualified_on"] = date_problem
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
    _certification_save(certification)
    # Receivers (the certificate's issuer) answer with a line for the invitation, or None.
    responses = member_certified.send(sender=MACertification, user=user, certification=certification)
    member_invite(user=user, extra_lines=tuple(str(line) for _receiver, line in responses if line))
    return user


def _certification_save(certification: MACertification) -> None:
    """Save under PostgreSQL's rules: a number taken meanwhile (a concurrent provisioning or change
    committed after the check above) waits on the unique index, then is refused in the rule's words."""
    certification.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            certification.save()
    except IntegrityError as error:
        problem = certification_number_problem(number=certification.certificate_number, holder=certification.user)
        if problem is None:
            raise
        raise AccountError(problem, field="certificate_number") from error


@transaction.atomic
def certification_change(
    *, certification: MACertification, certificate_number: str, qualified_on: date
) -> MACertification:
    """Correct a certification's number or qualification date (the roster's change form), under the
    rules of provisioning. Raises AccountError (nothing saved, `field` set)."""
    certificate_number = (certificate_number or "").strip()
    problems = {
        "certificate_number": certification_number_problem(number=certificate_number, holder=certification.user),
        "qualified_on": qualification_date_problem(qualified_on=qualified_on),
    }
    for field, problem in problems.items():
        if problem:
            raise AccountError(problem, field=field)
    certification.certificate_number = certificate_number
    certification.qualified_on = qualified_on
    _certification_save(certification)
    return certification


def _email_address_record(*, user: User) -> None:
    """allauth's record of the address: the program's certification record vouches for it."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"primary": True, "verified": True})
