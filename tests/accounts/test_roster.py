"""The MA roster: /admin/accounts/macertification/ is the list the provisioning flows return to."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import PROGRAM_ADMIN, VERIFIER
from tests.factories import MACertificationFactory, NotificationFactory, OrganizationFactory, StaffFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

ROSTER = "/admin/accounts/macertification/"


@pytest.fixture
def roster():
    contoso = OrganizationFactory(name="Contoso", domains=["contoso.example"])
    kenji = UserFactory(email="kenji@contoso.example", first_name="Kenji", last_name="Sato", organization=contoso)
    MACertificationFactory(user=kenji, certificate_number="MA-1005", qualified_on=date(2026, 1, 15))
    NotificationFactory(user=kenji, kind="account.invitation", email_state=Notification.EmailState.SENT)
    nora = UserFactory(email="nora@northwind.example", first_name="Nora", last_name="Lind")
    nora.last_login = timezone.now() - timedelta(days=2)
    nora.save(update_fields=["last_login"])
    MACertificationFactory(user=nora, certificate_number="MA-1001", qualified_on=date(2025, 3, 2))
    return {"kenji": kenji, "nora": nora, "contoso": contoso}


def _staff(kind: str):
    if kind == "superuser":
        return with_mfa(StaffFactory(email="root@example.com", is_superuser=True))
    group = {"program_admin": PROGRAM_ADMIN, "verifier": VERIFIER}[kind]
    return with_mfa(StaffFactory(email=f"{kind}@example.com", groups=[group]))


@pytest.mark.parametrize("kind", ["superuser", "program_admin", "verifier"])
def test_the_roster_answers_for_every_staff_role(client, roster, kind, django_assert_max_num_queries):
    client.force_login(_staff(kind))
    with django_assert_max_num_queries(20):
        response = client.get(ROSTER)
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("MA-1005", "MA-1001", "Contoso", "Kenji Sato", "15 Jan 2026"):
        assert text in html
    assert "Invited, not signed in yet" in html
    assert "Signed in" in html


def test_the_roster_query_count_does_not_grow_with_members(client, roster, django_assert_max_num_queries):
    for n in range(15):
        MACertificationFactory(user=UserFactory(organization=roster["contoso"]), certificate_number=f"MA-2{n:03d}")
    client.force_login(_staff("program_admin"))
    with django_assert_max_num_queries(20):
        assert client.get(ROSTER).status_code == 200


def test_the_roster_searches_by_certificate_email_and_name_and_filters_by_organization(client, roster):
    client.force_login(_staff("program_admin"))
    html = client.get(ROSTER, {"q": "MA-1005"}).content.decode()
    assert "Kenji" in html and "MA-1001" not in html
    html = client.get(ROSTER, {"q": "northwind"}).content.decode()
    assert "MA-1001" in html and "MA-1005" not in html
    html = client.get(ROSTER, {"user__organization__id__exact": roster["contoso"].pk}).content.decode()
    assert "MA-1005" in html and "MA-1001" not in html
    html = client.get(ROSTER, {"invitation": "pending"}).content.decode()
    assert "MA-1005" in html and "MA-1001" not in html
    html = client.get(ROSTER, {"invitation": "signed_in"}).content.decode()
    assert "MA-1001" in html and "MA-1005" not in html


def test_provisioning_returns_to_the_roster_which_shows_the_new_ma(client, roster):
    client.force_login(_staff("program_admin"))
    response = client.get(ROSTER)
    assert 'href="/admin/accounts/macertification/provision/"' in response.content.decode()
    response = client.post(
        "/admin/accounts/macertification/provision/",
        {
            "email": "lucia@example.com",
            "first_name": "Lúcia",
            "last_name": "Ferreira",
            "certificate_number": "MA-77",
            "qualified_on": "2026-02-01",
        },
        follow=True,
    )
    assert response.redirect_chain == [(ROSTER, 302)]
    assert response.status_code == 200
    html = response.content.decode()
    assert "MA-77" in html and "Lúcia Ferreira" in html


def test_a_verifier_sees_the_roster_without_the_provision_and_import_buttons(client, roster):
    client.force_login(_staff("verifier"))
    html = client.get(ROSTER).content.decode()
    assert "/admin/accounts/macertification/provision/" not in html
    assert "/admin/accounts/macertification/import/" not in html
