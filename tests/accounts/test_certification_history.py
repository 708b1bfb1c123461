"""A certification's changes are kept with who made them (its qualification date sets the member's
pro-rated target; its number is what the roster and imports match on): provisioning and corrections in
the admin each leave a version naming the staff member, and the roster's change page shows them."""

from datetime import date

import pytest
import time_machine

from accounts.models import MACertification
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@time_machine.travel(date(2026, 5, 1), tick=False)
def test_provisioning_and_a_correction_in_the_admin_are_kept_with_who_made_them(client, program_admin):
    client.force_login(with_mfa(program_admin))
    client.post(
        "/admin/accounts/macertification/provision/",
        {
            "email": "ab@example.com",
            "first_name": "A",
            "last_name": "B",
            "certificate_number": "MA-2026-0777",
            "qualified_on": "2026-03-02",
        },
    )
    certification = MACertification.objects.get(user__email="ab@example.com")

    response = client.post(
        f"/admin/accounts/macertification/{certification.pk}/change/",
        {"certificate_number": "MA-2026-0778", "qualified_on": "2026-03-09"},
    )

    assert response.status_code == 302
    versions = list(certification.history.order_by("history_date", "history_id"))
    assert [(v.history_type, v.certificate_number, v.qualified_on, v.history_user) for v in versions] == [
        ("+", "MA-2026-0777", date(2026, 3, 2), program_admin),
        ("~", "MA-2026-0778", date(2026, 3, 9), program_admin),
    ]
    history_page = client.get(f"/admin/accounts/macertification/{certification.pk}/history/").content.decode()
    assert "MA-2026-0777" in history_page and "Paul" in history_page


@pytest.mark.django_db(transaction=True)
def test_a_certification_made_before_its_history_began_gets_its_first_version():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = (
        ("accounts", "0012_certification_number_not_a_certificate_number"),
        ("accounts", "0013_macertification_history"),
    )
    try:
        MigrationExecutor(connection).migrate([before])
        apps = MigrationExecutor(connection).loader.project_state([before]).apps
        old = apps.get_model("accounts", "MACertification").objects.create(
            user=apps.get_model("accounts", "User").objects.create(email="ab@example.com"),
            certificate_number="MA-0203",
            qualified_on=date(2024, 3, 11),
        )
        MigrationExecutor(connection).migrate([after])
        apps = MigrationExecutor(connection).loader.project_state([after]).apps
        (first,) = apps.get_model("accounts", "HistoricalMACertification").objects.filter(id=old.pk)
        assert (first.history_type, first.certificate_number, first.qualified_on) == ("+", "MA-0203", date(2024, 3, 11))
        assert first.history_date == old.created_at and first.history_user_id is None
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
