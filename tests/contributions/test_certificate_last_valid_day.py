"""Every place a person reads how long a certificate is valid names its last valid day, 31 Dec 2026 for a
2026 certificate, not the program year's deadline (1 Jan 2027), which is the first day it is expired.

Found walking the demo: certificates read "valid until 1 Jan 2027". The stored `valid_until` is the
deadline, an exclusive bound (spec 20-maintenance: "before the certificates expire (2022-01-01)"), and
stays so; the signed credential's `validUntil` is the instant the certificate ceases to be valid, which
is that day at midnight UTC.
"""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.cache import cache

from contributions import credentials, openbadges, selectors
from contributions.certificate_pdf import certificate_rows
from contributions.models import Certificate, ReviewOutcome
from contributions.receivers import issue_certificates_on_certification
from contributions.resources import CertificateResource
from tests.factories import MACertificationFactory, ProgramYearFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
LAST_DAY = date(2026, 12, 31)


@pytest.fixture(autouse=True)
def _now():
    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def certificate(member):
    """Ava's 2026 certificate: the 2026 program year runs from 1 Jan 2026 to its deadline, 1 Jan 2027."""
    ProgramYearFactory(year=2026)
    certification = MACertificationFactory(user=member, qualified_on=date(2026, 1, 1))
    issue_certificates_on_certification(sender=None, user=member, certification=certification)
    return Certificate.objects.get(member=member, year=2026)


def test_the_stored_bound_is_the_deadline_and_the_last_valid_day_the_day_before(certificate):
    assert certificate.valid_until == date(2027, 1, 1)
    assert certificate.last_valid_day == LAST_DAY
    assert certificate.status_on(LAST_DAY) == Certificate.Status.VALID
    assert certificate.status_on(LAST_DAY + timedelta(days=1)) == Certificate.Status.EXPIRED


def test_the_invitation_line_names_the_last_valid_day(member):
    ProgramYearFactory(year=2026)
    certification = MACertificationFactory(user=member, qualified_on=date(2026, 1, 1))
    line = issue_certificates_on_certification(sender=None, user=member, certification=certification)
    assert "valid until 31 Dec 2026." in line and "2027" not in line


def test_the_status_in_words_names_the_last_valid_day_while_valid_and_once_expired(certificate):
    assert selectors.certificate_status_text(certificate=certificate, today=date(2026, 12, 7)) == (
        "Valid until 31 Dec 2026."
    )
    assert selectors.certificate_status_text(certificate=certificate, today=date(2027, 2, 1)) == (
        "Expired after 31 Dec 2026."
    )


def test_the_public_page_the_json_and_the_pdf_name_the_last_valid_day(client, certificate):
    html = client.get(f"/verify/{certificate.verification_code}/").content.decode()
    assert "<dt>Valid until</dt><dd>31 December 2026</dd>" in html
    assert "Valid until 31 Dec 2026." in html
    assert "1 January 2027" not in html and "1 Jan 2027" not in html
    data = client.get(f"/verify/{certificate.verification_code}.json").json()
    assert (data["valid_from"], data["valid_until"]) == ("2026-01-01", "2026-12-31")
    assert data["status_text"] == "Valid until 31 Dec 2026."
    rows = dict(certificate_rows(credentials.facts_for(certificate=certificate)))
    assert rows["Valid until"] == "31 December 2026"
    assert "Expires on" not in rows


def test_the_members_list_and_card_name_the_last_valid_day(client, member, certificate):
    client.force_login(member)
    listing = client.get("/certificates/").content.decode()
    assert "1 Jan 2026 – 31 Dec 2026" in listing and "1 Jan 2027" not in listing
    profile = client.get("/profile/").content.decode()
    assert "Valid until 31 Dec 2026." in profile and "1 Jan 2027" not in profile


def test_linkedin_is_told_the_month_of_the_last_valid_day(certificate):
    url = credentials.linkedin_add_url(certificate=certificate, page_url="https://ma.example/verify/abc/")
    params = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    assert (params["expirationYear"], params["expirationMonth"]) == ("2026", "12")


def test_the_export_and_the_admin_name_the_last_valid_day(client, program_admin, certificate):
    from tests.helpers import with_mfa

    header, row = (line.split(",") for line in CertificateResource().export().csv.strip().splitlines())
    assert row[header.index("valid_until")] == "2026-12-31"
    client.force_login(with_mfa(program_admin))
    changelist = client.get("/admin/contributions/certificate/").content.decode()
    assert "31 Dec 2026" in changelist and "1 Jan 2027" not in changelist
    change = client.get(f"/admin/contributions/certificate/{certificate.pk}/change/").content.decode()
    assert "31 Dec 2026" in change and "1 Jan 2027" not in change


def test_the_signed_credential_ends_at_the_instant_after_the_last_valid_day(certificate):
    """VC Data Model 2.0: `validUntil` is the dateTime the credential ceases to be valid (unchanged)."""
    credential = openbadges.credential_for(certificate)
    ceases = datetime.combine(certificate.last_valid_day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert credential["validUntil"] == ceases.isoformat().replace("+00:00", "Z") == "2027-01-01T00:00:00Z"


def test_the_dashboard_tells_an_opted_out_member_the_last_valid_day(client, member, certificate):
    client.force_login(member)
    client.post("/contributions/opt-out/", {"reason": "Parental leave"})
    html = client.get("/").content.decode()
    assert "Your certificate stays valid until 31 December 2026; you can undo this until then." in html
    assert "1 January 2027" not in html


def test_the_dashboard_tells_a_lapsed_member_the_last_day_they_were_certified(client, member):
    earlier = ProgramYearFactory(year=2026)
    ProgramYearFactory(year=2027)
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    ReviewOutcome.objects.create(
        member=member, program_year=earlier, outcome=ReviewOutcome.Outcome.LAPSED, target_points=400, verified_points=0
    )
    with time_machine.travel(datetime(2027, 3, 1, 9, tzinfo=UTC), tick=False):
        client.force_login(member)
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "did not renew your certification; it was valid until 31 December 2026." in html


def test_the_help_page_names_the_last_day_of_the_year(client, certificate):
    html = client.get("/help/").content.decode()
    assert "by 31 December 2026, the last day your certificate is valid." in html
    assert "1 January 2027" not in html
