"""Issue 17 item 1: the roster says whether each MA's invitation was sent, accepted or has expired,
and program admins resend invitations in bulk: a fresh link valid 14 days by default
(`MAHOME_INVITATION_VALID_DAYS`), recorded with who sent it."""

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
    url = Notification.objects.filter(user=user, kind="account.invitation").latest("created_at").url
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
