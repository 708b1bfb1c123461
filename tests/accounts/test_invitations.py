"""Issue 17 item 1: the roster says whether each MA's invitation was sent, accepted or has expired,
and program admins resend invitations in bulk: a fresh link valid 14 days by default
(`MAHOME_INVITATION_VALID_DAYS`), recorded with who sent it."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.utils import timezone

from accounts.models import Invitation, MACertification, Notification
from accounts.services import member_provision
from tests.factories import MACertificationFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

ROSTER = "/admin/accounts/macertification/"
START = timezone.make_aware(timezone.datetime(2026, 3, 2, 9, 0))


def _provision(email: str = "nora@northwind.example", **kwargs):
    return member_provision(
        email=email, first_name="Nora", last_name="Lind", certificate_number=email, qualified_on=date(2026, 3, 1)
    )


def _link_works(client, user) -> bool:
    """Follow the member's latest invitation link: allauth's set-password page accepts or refuses the key."""
    url = Notification.objects.filter(user=user, kind="account.invitation").latest("created_at").email_url
    client.logout()
    response = client.get(url, follow=True)
    return b"password1" in response.content


@pytest.mark.parametrize(("days", "works"), [(13, True), (15, False)])
def test_the_invitation_link_is_valid_14_days_by_default(client, days, works, django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        user = _provision()
    with time_machine.travel(START + timedelta(days=days), tick=False):
        assert _link_works(client, user) is works


def test_the_invitation_validity_is_a_setting(client, settings, django_capture_on_commit_callbacks):
    settings.MAHOME_INVITATION_VALID_DAYS = 5
    with time_machine.travel(START, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            user = _provision()
        assert "valid for 5 days" in mail.outbox[0].body
        invitation = Invitation.objects.get(user=user)
        assert invitation.valid_until == START + timedelta(days=5) and invitation.sent_by is None
    with time_machine.travel(START + timedelta(days=6), tick=False):
        assert not _link_works(client, user)


def test_a_forgotten_password_link_keeps_its_own_shorter_validity(settings):
    """The invitation's 14 days do not stretch "Forgot your password?" links (PASSWORD_RESET_TIMEOUT)."""
    from allauth.account.forms import default_token_generator

    user = UserFactory()
    with time_machine.travel(START, tick=False):
        token = default_token_generator.make_token(user)
    with time_machine.travel(START + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60), tick=False):
        assert not default_token_generator.check_token(user, token)


@pytest.fixture
def three_members(django_capture_on_commit_callbacks):
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=True):
        expired = _provision("old@example.com")
    with time_machine.travel(START + timedelta(days=20), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            fresh = _provision("new@example.com")
            signed_in = _provision("in@example.com")
        signed_in.last_login = timezone.now()
        signed_in.save(update_fields=["last_login"])
    return {"expired": expired, "fresh": fresh, "signed_in": signed_in}


def test_the_roster_shows_sent_accepted_and_expired(client, program_admin, three_members):
    client.force_login(with_mfa(program_admin))
    with time_machine.travel(START + timedelta(days=21), tick=False):
        html = client.get(ROSTER).content.decode()
        assert "Invitation expired on 16 Mar 2026" in html
        assert "Invited on 22 Mar 2026, link valid until 5 Apr 2026" in html
        assert "Signed in" in html
        html = client.get(ROSTER, {"invitation": "expired"}).content.decode()
    assert "old@example.com" in html and "new@example.com" not in html and "in@example.com" not in html


def _action(client, action: str, members, **extra):
    ids = [str(MACertification.objects.get(user=m).pk) for m in members]
    return client.post(ROSTER, {"action": action, ACTION_CHECKBOX_NAME: ids, **extra})


def test_resend_asks_for_confirmation_then_sends_fresh_links_recorded_with_the_sender(
    client, program_admin, three_members, django_capture_on_commit_callbacks
):
    client.force_login(with_mfa(program_admin))
    members = [three_members["expired"], three_members["fresh"], three_members["signed_in"]]
    with time_machine.travel(START + timedelta(days=21), tick=False):
        page = _action(client, "resend_invitations", members)
        assert page.status_code == 200
        html = page.content.decode()
        assert "2 members will get a new invitation" in html
        assert "in@example.com" in html and "has already signed in" in html
        assert Invitation.objects.count() == 3  # nothing sent yet
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = _action(client, "resend_invitations", members, confirm="yes")
        assert response.status_code == 302
        resent = Invitation.objects.filter(sent_by=program_admin)
        assert {i.user for i in resent} == {three_members["expired"], three_members["fresh"]}
        assert all(i.valid_until == timezone.now() + timedelta(days=14) for i in resent)
        assert sorted(m.to[0] for m in mail.outbox) == ["new@example.com", "old@example.com"]
    with time_machine.travel(START + timedelta(days=34), tick=False):
        assert _link_works(client, three_members["expired"])  # the fresh link works where the old one had expired
        client.force_login(program_admin)
        html = client.get(ROSTER).content.decode()
        assert "Invited on 23 Mar 2026" in html and "Invitation expired on" not in html


def test_a_verifier_cannot_resend_invitations(client, verifier, three_members):
    client.force_login(with_mfa(verifier))
    html = client.get(ROSTER).content.decode()
    assert "resend_invitations" not in html
    _action(client, "resend_invitations", [three_members["expired"]], confirm="yes")
    assert not Invitation.objects.filter(sent_by=verifier).exists()


def test_an_invitation_record_refuses_an_expiry_before_it_was_sent():
    from django.core.exceptions import ValidationError

    user = MACertificationFactory().user
    invitation = Invitation(user=user, sent_at=START, valid_until=START - timedelta(days=1))
    with pytest.raises(ValidationError, match="A link cannot expire before it was sent"):
        invitation.full_clean()


def test_the_invitation_in_the_app_says_where_the_password_is_and_the_email_keeps_its_link(
    client, django_capture_on_commit_callbacks
):
    """The member reads the app's copy signed in already (and signing in ends the email's set-password
    link): it says where to change or set the password and opens that page; the email keeps the
    "link below" paragraph, with the link below it, working until the member signs in."""
    with django_capture_on_commit_callbacks(execute=True):
        user = _provision(email="noor@example.com")
    email = next(message for message in mail.outbox if "noor@example.com" in message.to)
    assert "Choose your password with the link below (valid for 14 days;" in email.body
    link = re.search(r"https?://\S+(/accounts/password/reset/key/\S+)\s*$", email.body).group(1)
    assert b"password1" in client.get(link, follow=True).content

    client.force_login(user)
    notification = user.notifications.get(kind="account.invitation")
    listed = client.get("/notifications/").content.decode()
    page = client.get(f"/notifications/{notification.pk}/").content.decode()
    for html in (listed, page):
        assert "Welcome to MA Home, Nora." in html
        assert "below" not in html
        assert "/accounts/password/reset/key/" not in html
        assert "Change or set your password" in html
    opened = client.get(re.search(r'<a class="button" href="([^"]+)">Open</a>', page).group(1), follow=True)
    assert opened.request["PATH_INFO"] == "/accounts/password/set/"  # no password yet: allauth's change page says set
    assert "This link no longer works" not in opened.content.decode()


def test_the_email_puts_the_set_password_link_right_under_the_sentence_that_announces_it(
    django_capture_on_commit_callbacks, settings
):
    """A member whose organization allows a password and has single sign-on: the sentence says "the link
    below", so the link is the next paragraph and the single sign-on paragraph comes after it (once, the
    link: not again at the end)."""
    from accounts.models import SSOConnection
    from tests.factories import OrganizationFactory, sso_connection_create

    settings.SITE_URL = "https://mahome.example.com"
    northwind = OrganizationFactory(name="Northwind", domains=["northwind.example"])
    sso_connection_create(
        organization=northwind,
        kind=SSOConnection.Kind.OIDC,
        slug="northwind",
        server_url="https://idp.northwind.example",
        client_id="ma-home",
        client_secret="s3cret",
    )
    with django_capture_on_commit_callbacks(execute=True):
        user = _provision(email="nora@northwind.example")
    link = f"https://mahome.example.com{user.notifications.get(kind='account.invitation').email_url}"
    paragraphs = mail.outbox[0].body.split("\n\n")
    announced = next(i for i, p in enumerate(paragraphs) if "the link below" in p)
    assert paragraphs[announced + 1] == link
    assert paragraphs[announced + 2].startswith("You can also sign in with your organization's single sign-on")
    assert paragraphs[announced + 2 :] == [paragraphs[-1]]
    assert mail.outbox[0].body.count(link) == 1


def test_an_sso_only_email_gives_the_sign_in_link_once_in_the_sentence_that_announces_it(
    django_capture_on_commit_callbacks, settings
):
    """A member whose organization requires single sign-on: the sentence says to enter their address on the
    sign-in link, so that is where the link is, once; the email does not repeat it at its end."""
    from accounts.models import Organization, SSOConnection
    from tests.factories import OrganizationFactory, sso_connection_create

    settings.SITE_URL = "https://mahome.example.com"
    contoso = OrganizationFactory(
        name="Contoso", domains=["contoso.example"], fallback_policy=Organization.FallbackPolicy.SSO_REQUIRED
    )
    sso_connection_create(
        organization=contoso,
        kind=SSOConnection.Kind.OIDC,
        slug="contoso",
        server_url="https://idp.contoso.example",
        client_id="ma-home",
        client_secret="s3cret",
    )
    with django_capture_on_commit_callbacks(execute=True):
        user = _provision(email="kenji@contoso.example")
    link = f"https://mahome.example.com{user.notifications.get(kind='account.invitation').email_url}"
    assert link == "https://mahome.example.com/accounts/login/?email=kenji%40contoso.example"
    body = mail.outbox[0].body
    assert body.count(link) == 1
    (announcing,) = [p for p in body.split("\n\n") if link in p]
    assert announcing.startswith("You can also sign in with your organization's single sign-on: ")
    assert f"enter kenji@contoso.example on {link} and choose" in announcing
    assert body.split("\n\n")[-1] == announcing


@pytest.mark.django_db(transaction=True)
def test_the_invitations_sent_before_get_their_app_copy_and_keep_their_email(settings):
    """Migration 0015: an invitation already in the app stops pointing to a link below (and to the
    set-password link its member's sign-in ended); its email is sent as it was written."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from accounts.services import notification_send_email

    settings.SITE_URL = "https://mahome.example.com"
    before, after = (
        ("accounts", "0014_sso_connection_readable_help_texts"),
        ("accounts", "0015_notification_email_copy"),
    )
    link_below = (
        'Choose your password with the link below (valid for 14 days; afterwards use "Forgot your password?" '
        "on the sign-in page)."
    )
    password_body = f"Welcome to MA Home, Nora.\n\nCertified on 1 Mar 2026.\n\n{link_below}"
    sso_body = "Welcome to MA Home, Kenji.\n\nContoso signs you in with single sign-on; contact Priya Raman."
    try:
        MigrationExecutor(connection).migrate([before])
        apps = MigrationExecutor(connection).loader.project_state([before]).apps
        users, notifications = apps.get_model("accounts", "User"), apps.get_model("accounts", "Notification")
        nora, kenji = (
            users.objects.create(email="nora@example.com"),
            users.objects.create(email="kenji@contoso.example"),
        )
        invitation = "account.invitation"
        password = notifications.objects.create(
            user=nora, kind=invitation, title="Added", body=password_body, url="/accounts/password/reset/key/2-abc/"
        )
        sso = notifications.objects.create(
            user=kenji,
            kind=invitation,
            title="Added",
            body=sso_body,
            url="/accounts/login/?email=kenji%40contoso.example",
        )
        other = notifications.objects.create(user=nora, kind="maintenance.reminder", title="Hi", body="Below.", url="/")

        MigrationExecutor(connection).migrate([after])
        fields = ("body", "url", "email_body", "email_url")
        rows = {pk: row for pk, *row in Notification.objects.values_list("pk", *fields)}
        assert rows[password.pk] == [
            password_body.replace(
                link_below,
                'You can change your password, or set one, at any time: Profile, then "Change or set your password".',
            ),
            "/accounts/password/change/",
            password_body,
            "/accounts/password/reset/key/2-abc/",
        ]
        assert rows[sso.pk] == [sso_body, "/", sso_body, "/accounts/login/?email=kenji%40contoso.example"]
        assert rows[other.pk] == ["Below.", "/", "", ""]
        Notification.objects.filter(pk=password.pk).update(email_state=Notification.EmailState.PENDING)
        assert notification_send_email(notification_id=password.pk)
        assert (
            mail.outbox[-1].body == f"{password_body}\n\nhttps://mahome.example.com/accounts/password/reset/key/2-abc/"
        )

        MigrationExecutor(connection).migrate([before])
        apps = MigrationExecutor(connection).loader.project_state([before]).apps
        back = apps.get_model("accounts", "Notification").objects.get(pk=password.pk)
        assert (back.body, back.url) == (password_body, "/accounts/password/reset/key/2-abc/")
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
