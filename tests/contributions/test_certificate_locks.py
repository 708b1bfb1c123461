"""Revoking or re-issuing a certificate another staff member is changing answers "busy, try again"
after the short lock_timeout (mahome.locks), and changes nothing."""

import threading
from datetime import date

import pytest
from django.db import connections, transaction

from contributions import services
from contributions.models import Certificate
from contributions.services import certificates as certificate_services
from tests.factories import MACertificationFactory, ProgramYearFactory, UserFactory


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["revoke", "reissue"])
def test_a_certificate_change_behind_a_held_lock_answers_busy(monkeypatch, program_admin, change):
    ProgramYearFactory(year=2021)
    member = UserFactory()
    MACertificationFactory(user=member, qualified_on=date(2020, 5, 1))
    certificate = services.certificates_issue_missing(member=member, today=date(2021, 3, 1))[0]
    issued = Certificate.objects.filter(member=member).count()
    monkeypatch.setattr(certificate_services, "LOCK_TIMEOUT", "100ms")
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Certificate.objects.select_for_update().get(pk=certificate.pk)
            locked.set()
            release.wait(timeout=30)
        connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with pytest.raises(services.ContributionError, match="try again in a moment"):
            if change == "revoke":
                services.certificate_revoke(certificate=certificate, reason="Issued in error", by=program_admin)
            else:
                services.certificate_reissue(certificate=certificate, correction="Name spelling", by=program_admin)
    finally:
        release.set()
        holder.join(timeout=30)
    certificate.refresh_from_db()
    assert certificate.state == Certificate.State.ACTIVE
    assert Certificate.objects.filter(member=member).count() == issued
