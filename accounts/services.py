"""Every write of the accounts app."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.models import (
    NOTIFICATION_AREAS,
    Invitation,
    MACertification,
    Notification,
    Organization,
    SegmentMessage,
    SegmentMessageRecipient,
    SSOConnection,
    User,
    password_allowed,
)
from accounts.signals import member_certified

logger = logging.getLogger(__name__)


def _enqueue_notification_email(notification_id: int) -> None:
    """Hand the email to Celery; if the broker is away the outbox sweep sends it later."""
    from accounts.tasks import notification_send_email

    try:
        notification_send_email.delay(notification_id)
    except Exception:  # noqa: BLE001 - the broker being down must never fail the member's request
        logger.warning("Broker unavailable; notification %s stays in the outbox", notification_id)


def notification_create(
    *,
    user: User,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    email: bool = True,
    dedupe_key: str = "",
) -> Notification | None:
    """Record a notification for `user` and, after commit, email it.

    With a `dedupe_key` the notification is created at most once per user and key
    (a unique constraint, so two concurrent jobs cannot both create it); the second call
    returns None.
    """
    wants_email = email and user.is_active and _user_wants_email(user, kind)
    notification = Notification(
        user=user,
        kind=kind,
        title=title[:200],
        body=body,
        url=url,
        dedupe_key=dedupe_key,
        email_state=Notification.EmailState.PENDING if wants_email else Notification.EmailState.SKIPPED,
    )
    notification.full_clean(exclude=["user"], validate_constraints=False)
    try:
        with transaction.atomic():
            notification.save()
    except IntegrityError:
        if dedupe_key:
            return None
        raise
    if wants_email:
        transaction.on_commit(lambda: _enqueue_notification_email(notification.pk), robust=True)
    return notification


def _enqueue_notification_emails(notification_ids: list[int]) -> None:
    """Hand a set-based insert's emails to Celery in batches; what the broker refuses stays in the outbox."""
    from accounts.tasks import notification_send_emails

    for start in range(0, len(notification_ids), NOTIFICATION_EMAIL_BATCH):
        batch = notification_ids[start : start + NOTIFICATION_EMAIL_BATCH]
        try:
            notification_send_emails.delay(batch)
        except Exception:  # noqa: BLE001 - the broker being down must never fail the caller
            logger.warning("Broker unavailable; %s notifications stay in the outbox", len(batch))
            return


NOTIFICATION_EMAIL_BATCH = 200


def notifications_create_many(
    *,
    kind: str,
    user_ids: list[int],
    titles: list[str],
    bodies: list[str],
    dedupe_keys: list[str],
    url: str = "",
    email: bool = True,
) -> int:
    """`notification_create` for many members in one statement; returns how many were created.

    The i-th member gets the i-th title, body and dedupe key. A (member, key) pair that already has its
    notification is skipped by the same unique constraint (`ON CONFLICT DO NOTHING`). Whether each
    one is emailed is decided in SQL from the member's `is_active` and email preference for the
    kind's area (what `User.wants_email` decides for one); the emails wait in the outbox (`pending`)
    and are handed to Celery in batches after commit.
    """
    from django.db import connection

    if not user_ids:
        return 0
    if connection.vendor != "postgresql":
        # The embedded local run (SQLite) has no unnest: the same rule, one member at a time.
        users_by_id = User.objects.in_bulk(user_ids)
        made = [
            notification_create(
                user=users_by_id[user_id], kind=kind, title=title, body=body, url=url, email=email, dedupe_key=key
            )
            for user_id, title, body, key in zip(user_ids, titles, bodies, dedupe_keys, strict=True)
            if user_id in users_by_id
        ]
        return sum(1 for notification in made if notification is not None)
    area = kind.split(".", 1)[0]
    wants = f"u.email_{area}" if area in NOTIFICATION_AREAS and kind != "account.invitation" else "TRUE"
    table, users = Notification._meta.db_table, User._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, kind, title, body, url, created_at, email_state, email_attempts, "  # noqa: S608
            "dedupe_key) "
            f"SELECT r.user_id, %s, left(r.title, 200), r.body, %s, %s, "
            f"CASE WHEN %s AND u.is_active AND {wants} THEN %s ELSE %s END, 0, r.dedupe_key "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS r(user_id, title, body, dedupe_key) "
            f"JOIN {users} u ON u.id = r.user_id "
            "ON CONFLICT (user_id, dedupe_key) WHERE NOT (dedupe_key = '') DO NOTHING "
            "RETURNING id, email_state",
            [
                kind,
                url,
                timezone.now(),
                email,
                Notification.EmailState.PENDING,
                Notification.EmailState.SKIPPED,
                user_ids,
                titles,
                bodies,
                dedupe_keys,
            ],
        )
        created = cursor.fetchall()
    pending = [pk for pk, state in created if state == Notification.EmailState.PENDING]
    if pending:
        transaction.on_commit(lambda: _enqueue_notification_emails(pending), robust=True)
    return len(created)


def _user_wants_email(user: User, kind: str) -> bool:
    preference = getattr(user, "wants_email", None)
    return preference(kind) if callable(preference) else True


def notification_send_email(*, notification_id: int) -> bool:
    """Send the email of one notification exactly once; returns True when it was sent now.

    The row is locked while sending, so two workers (or a retry racing the sweep) cannot
    both send it.
    """
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",), no_key=True)
            .select_related("user")
            .filter(pk=notification_id, email_state=Notification.EmailState.PENDING)
            .first()
        )
        if notification is None:
            return False
        notification.email_attempts += 1
        link = f"{settings.SITE_URL}{notification.url}" if notification.url.startswith("/") else notification.url
        text = notification.body + (f"\n\n{link}" if link else "")
        send_mail(
            subject=f"[MA Home] {notification.title}",
            message=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.user.email],
        )
        notification.email_state = Notification.EmailState.SENT
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["email_state", "email_attempts", "emailed_at"])
    return True


def notification_record_email_failure(*, notification_id: int, give_up: bool) -> None:
    """Count a failed attempt; after the last retry the email is marked failed (the in-app copy stays)."""
    updates = {"email_attempts": F("email_attempts") + 1}
    if give_up:
        updates["email_state"] = Notification.EmailState.FAILED
    Notification.objects.filter(pk=notification_id, email_state=Notification.EmailState.PENDING).update(**updates)


def notifications_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    """Mark the member's notifications read (all unread ones when no ids are given)."""
    queryset = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        queryset = queryset.filter(pk__in=notification_ids)
    return queryset.update(read_at=timezone.now())


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
    organization defaults to the one owning the email's domain. Raises ValidationError (nothing
    saved) when the email already has an account or the certificate number is taken.
    """
    email = User.objects.normalize_email((email or "").strip()).lower()
    certificate_number = (certificate_number or "").strip()
    errors: dict[str, list[str]] = {}
    if not email:
        errors["email"] = [_("An email address is required.")]
    elif selectors.user_by_email(email=email) is not None:
        errors["email"] = [_("%(email)s already has an account.") % {"email": email}]
    if not certificate_number:
        errors["certificate_number"] = [_("A certificate number is required.")]
    elif MACertification.objects.filter(certificate_number=certificate_number).exists():
        errors["certificate_number"] = [
            _("Certificate number %(number)s belongs to another member.") % {"number": certificate_number}
        ]
    if qualified_on is None:
        errors["qualified_on"] = [_("A qualification date is required.")]
    elif qualified_on > timezone.localdate():
        errors["qualified_on"] = [_("The qualification date cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
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


def member_set_password_path(*, user: User) -> str:
    """A one-time link to choose a password (allauth's reset-from-key URL; expires with the token)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    return reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )


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
    if password_allowed(organization):
        return None
    return _(
        '%(organization)s requires single sign-on: use the "Sign in with %(organization)s" button. '
        "If it does not work, contact %(contact)s."
    ) % {"organization": organization.name, "contact": organization_contact_text(organization=organization)}


def member_invite(*, user: User, sent_by: User | None = None, extra_lines: tuple[str, ...] = ()) -> Invitation:
    """Send the invitation: a sign-in link, a set-password link where a password is allowed, the SSO button.

    Every send is recorded (`Invitation`) with who sent it (None: MA Home, on provisioning) and until
    when its link works; a resend is a new notification with a fresh link, the earlier one stays.
    """
    from accounts.invitation_links import invitation_valid_days

    organization = user.organization
    sign_in_path = f"{reverse('account_login')}?{urlencode({'email': user.email})}"
    lines = [
        _("Welcome to MA Home, %(name)s.") % {"name": user.display_name},
        _("Your account is ready: it keeps your certification, your contributions and your opportunities together."),
    ]
    certification = getattr(user, "certification", None)
    if certification is not None:
        lines.append(_("Certified on %(date)s.") % {"date": date_format(certification.qualified_on)})
    lines.extend(extra_lines)
    url = sign_in_path
    now = timezone.now()
    valid_until = None
    connections = list(organization.sso_connections.all()) if organization else []
    if password_allowed(organization):
        url = member_invitation_path(user=user)
        days = invitation_valid_days()
        valid_until = now + timedelta(days=days)
        lines.append(
            _(
                "Choose your password with the link below (valid for %(days)s days; afterwards use "
                '"Forgot your password?" on the sign-in page).'
            )
            % {"days": days}
        )
    if connections:
        lines.append(
            _(
                "You can also sign in with your organization's single sign-on: "
                'enter %(email)s on %(link)s and choose "%(button)s".'
            )
            % {"email": user.email, "link": f"{settings.SITE_URL}{sign_in_path}", "button": connections[0].label}
        )
    elif organization is not None and organization.sso_required:
        lines.append(
            _("%(organization)s signs you in with single sign-on; contact %(contact)s if it does not work.")
            % {"organization": organization.name, "contact": organization_contact_text(organization=organization)}
        )
    invitation = Invitation(user=user, sent_at=now, sent_by=sent_by, valid_until=valid_until)
    invitation.full_clean(exclude=["user", "sent_by"])
    invitation.save()
    invitation.notification = notification_create(
        user=user,
        kind="account.invitation",
        title=_("You have been added to MA Home"),
        body="\n\n".join(lines),
        url=url,
        # The first invitation once (provisioning twice sends one); each resend is its own.
        dedupe_key="invitation" if sent_by is None else f"invitation:{invitation.pk}",
    )
    if invitation.notification is not None:
        invitation.save(update_fields=["notification"])
    return invitation


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


@transaction.atomic
def sso_connection_sync(*, connection: SSOConnection) -> SSOConnection:
    """Save the connection and write the allauth SocialApp that serves its sign-in URLs."""
    from allauth.socialaccount.models import SocialApp

    connection.full_clean()
    if connection.kind == SSOConnection.Kind.OIDC:
        missing = [f for f in ("server_url", "client_id", "client_secret") if not getattr(connection, f)]
        fields: dict[str, Any] = {
            "provider": "openid_connect",
            "provider_id": connection.slug,
            "client_id": connection.client_id,
            "secret": connection.client_secret,
            "settings": {"server_url": connection.server_url},
        }
    else:
        missing = [f for f in ("idp_entity_id", "idp_metadata_url") if not getattr(connection, f)]
        saml_settings: dict[str, Any] = {
            "idp": {"entity_id": connection.idp_entity_id, "metadata_url": connection.idp_metadata_url},
            "advanced": {"want_assertion_signed": True, "want_message_signed": True, "strict": True},
        }
        if connection.saml_attribute_mapping:
            saml_settings["attribute_mapping"] = connection.saml_attribute_mapping
        fields = {
            "provider": "saml",
            "provider_id": connection.idp_entity_id,
            "client_id": connection.slug,
            "secret": "",
            "settings": saml_settings,
        }
    if missing:
        labels = {f: SSOConnection._meta.get_field(f).verbose_name for f in missing}
        raise ValidationError(
            {f: _("%(field)s is required for this protocol.") % {"field": label} for f, label in labels.items()}
        )
    fields["name"] = str(connection.organization.name)[:40]
    app = connection.social_app or SocialApp()
    for name, value in fields.items():
        setattr(app, name, value)
    app.full_clean()
    app.save()
    connection.social_app = app
    connection.save()
    return connection


PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "employer",
    "company_type",
    "job_title",
    "country",
    "time_zone",
    "phone",
    "linkedin_url",
    "bio",
    "interests",
    "email_account",
    "email_maintenance",
    "email_engagement",
    "email_community",
)


@transaction.atomic
def profile_update(*, user: User, changes: dict[str, Any], actor: User | None) -> User:
    """Apply profile edits (the member's own, or the program team's); history keeps who and what.

    `actor` is recorded on the version (None: MA Home itself, e.g. an import).
    """
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    changed = [name for name, value in changes.items() if getattr(user, name) != value]
    if not changed:
        return user
    for name in changed:
        setattr(user, name, changes[name])
    user.full_clean(exclude=["password"])
    user._history_user = actor
    user._change_reason = (
        "profile edited by the member" if actor is not None and actor.pk == user.pk else "profile edited"
    )
    user.save(update_fields=changed)
    return user


def sessions_end_all(*, request, user: User) -> int:
    """Sign the member out on every device and browser, this one included; returns how many ended."""
    from allauth.usersessions.internal.flows.sessions import end_sessions
    from allauth.usersessions.models import UserSession

    sessions = list(UserSession.objects.filter(user_id=user.pk))
    end_sessions(request, sessions)
    return len(sessions)


@transaction.atomic
def user_set_staff_role(*, user: User, role: str, actor: User) -> User:
    """Give `user` one staff role (Verifier or Program admin) or take it away (role "").

    A program admin may do this and nothing more: superuser status, other groups and single
    permissions are the superusers' alone, and a superuser's account is out of a program admin's
    reach. The history row names the actor and says which role was given or taken.
    """
    from django.contrib.auth.models import Group
    from django.core.exceptions import PermissionDenied

    from accounts.roles import STAFF_ROLES, may_assign_staff_roles, user_staff_role

    if role and role not in STAFF_ROLES:
        raise PermissionDenied(_("A staff role is Verifier or Program admin."))
    if not may_assign_staff_roles(actor, user):
        raise PermissionDenied(_("Only a program admin or a superuser gives staff roles."))
    user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    before = user_staff_role(user)
    user.groups.remove(*Group.objects.filter(name__in=STAFF_ROLES).exclude(name=role))
    if role:
        user.groups.add(Group.objects.get(name=role))
    user.is_staff = bool(role) or user.is_superuser
    user._history_user = actor
    user._change_reason = _("Staff role: %(after)s (was: %(before)s)") % {
        "after": role or _("none"),
        "before": before or _("none"),
    }
    user.save(update_fields=["is_staff"])
    return user


# What a program admin may change on a person's account in the admin (the rest is the superusers').
STAFF_EDITABLE_FIELDS = ("email", *PROFILE_FIELDS, "organization", "is_active")


@transaction.atomic
def user_update_by_staff(*, user: User, changes: dict[str, Any], actor: User) -> User:
    """A program admin's edits of a person's account (profile, organization, active); history names them."""
    from django.core.exceptions import PermissionDenied

    from accounts.roles import may_assign_staff_roles

    unknown = set(changes) - set(STAFF_EDITABLE_FIELDS)
    if unknown:
        raise PermissionDenied(f"not editable by staff: {sorted(unknown)}")
    if user.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only a superuser changes a superuser's account."))
    if not (actor.is_superuser or may_assign_staff_roles(actor, user)):
        raise PermissionDenied(_("Only a program admin or a superuser changes accounts."))
    user = User.objects.select_for_update(of=("self",), no_key=True).get(pk=user.pk)
    changed = [name for name, value in changes.items() if getattr(user, name) != value]
    if not changed:
        return user
    for name in changed:
        setattr(user, name, changes[name])
    user.full_clean(exclude=["password"])
    user._history_user = actor
    user._change_reason = _("account edited by staff")
    user.save(update_fields=changed)
    return user


# --- Messages to a segment of members ---------------------------------------------------------------

SEGMENT_MESSAGE_KIND = "maintenance.program_message"


def segment_message_refusal(*, author: User) -> str | None:
    """Why `author` may not message members (None: they may). The buttons and the service ask this."""
    if not (author.is_active and author.is_staff and author.has_perm("accounts.add_segmentmessage")):
        return _("Only program admins can message members.")
    return None


@transaction.atomic
def segment_message_send(
    *, author: User, title: str, body: str, recipients: list[User], segment: str, request_token: str = ""
) -> SegmentMessage:
    """Send one message to each selected member once: a notification and, per their email preference
    for program news, an email through the outbox. Recorded with its author, segment and recipients.

    A member selected twice (two rows, two pages) is one recipient; the notifications share the
    message's dedupe key, so the unique (member, key) index also keeps a retry from sending twice.
    """
    refusal = segment_message_refusal(author=author)
    if refusal:
        raise PermissionDenied(refusal)
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title:
        errors["title"] = [_("Give the message a title.")]
    if not body:
        errors["body"] = [_("Write a message.")]
    if errors:
        raise ValidationError(errors)
    request_token = (request_token or "").strip()[:64]
    if request_token:
        sent = SegmentMessage.objects.filter(request_token=request_token).first()
        if sent is not None:
            return sent  # the same form posted again: already sent
    user_ids = sorted({user.pk for user in recipients})
    message = SegmentMessage(
        title=title,
        body=body,
        author=author,
        segment=segment[:300],
        recipient_count=len(user_ids),
        request_token=request_token,
    )
    message.full_clean(exclude=["author"], validate_constraints=False)
    try:
        with transaction.atomic():
            message.save()
    except IntegrityError:
        # The same form posted at the same moment: the other request's message is the one sent.
        return SegmentMessage.objects.get(request_token=request_token)
    key = f"segment-message:{message.pk}"
    notifications_create_many(
        kind=SEGMENT_MESSAGE_KIND,
        user_ids=user_ids,
        titles=[title] * len(user_ids),
        bodies=[body] * len(user_ids),
        dedupe_keys=[key] * len(user_ids),
        url=reverse("notification_list"),
    )
    notification_ids = dict(
        Notification.objects.filter(dedupe_key=key, user_id__in=user_ids).values_list("user_id", "pk")
    )
    SegmentMessageRecipient.objects.bulk_create(
        SegmentMessageRecipient(message=message, user_id=pk, notification_id=notification_ids.get(pk))
        for pk in user_ids
    )
    return message
