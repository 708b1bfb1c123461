"""Staff powers need MFA everywhere, not only under /admin/ (issue 11, item 11).

The one rule is `accounts.roles.staff_mfa_ready`: the same check StaffMFARequiredMiddleware makes
for /admin/ (an authenticator app, which allauth then asks for at every sign-in). A view outside
the admin that lets staff see what members cannot (another member's evidence) asks it too.
"""

import pytest
from django.core.files.base import ContentFile

from accounts.middleware import StaffMFARequiredMiddleware
from accounts.roles import VERIFIER, staff_mfa_ready
from tests.factories import ContributionFactory, StaffFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def evidence(member, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    contribution = ContributionFactory(member=member)
    contribution.evidence_file.save("slides.png", ContentFile(PNG), save=True)
    return contribution


def _get(client, user, contribution):
    client.force_login(user)
    return client.get(f"/contributions/{contribution.pk}/evidence/")


def test_a_verifier_without_an_authenticator_cannot_open_another_members_evidence(client, evidence):
    verifier = StaffFactory(email="nomfa@example.com", groups=[VERIFIER])
    response = _get(client, verifier, evidence)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_verifier_with_an_authenticator_opens_it(client, evidence, verifier):
    assert _get(client, with_mfa(verifier), evidence).status_code == 200


def test_staff_without_a_role_that_reads_contributions_get_a_404(client, evidence):
    staff = with_mfa(StaffFactory(email="norole@example.com"))
    assert _get(client, staff, evidence).status_code == 404


def test_the_member_opens_their_own_evidence(client, evidence, member):
    assert _get(client, member, evidence).status_code == 200


def test_a_staff_member_without_mfa_still_opens_their_own_evidence(client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    verifier = StaffFactory(email="nomfa2@example.com", groups=[VERIFIER])
    own = ContributionFactory(member=verifier)
    own.evidence_file.save("mine.png", ContentFile(PNG), save=True)
    assert _get(client, verifier, own).status_code == 200


def test_the_admin_and_the_evidence_view_ask_the_same_rule(verifier, monkeypatch, rf):
    """The middleware's check is the shared predicate (one rule, one place)."""
    calls = []

    def recording(user):
        calls.append(user.pk)
        return True

    monkeypatch.setattr("accounts.middleware.staff_mfa_ready", recording)
    request = rf.get("/admin/")
    request.user = verifier
    StaffMFARequiredMiddleware(lambda r: "through")(request)
    assert calls == [verifier.pk]
    assert not staff_mfa_ready(verifier)
    assert staff_mfa_ready(with_mfa(verifier))
