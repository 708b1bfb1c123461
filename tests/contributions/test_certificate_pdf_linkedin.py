"""LinkedIn's "Add to profile" link and the one-page PDF certificate with its QR code."""

import re
import subprocess
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine

from contributions import credentials, services
from contributions.models import Certificate
from tests.factories import MACertificationFactory, ProgramYearFactory
from tests.helpers import SCREENSHOT_DIR

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


@pytest.fixture
def certificate(member):
    year_2025 = ProgramYearFactory(year=2025, target_points=400)
    ProgramYearFactory(year=2026)
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    return Certificate.objects.create(
        member=member,
        program_year=year_2025,
        year=2026,
        number=f"MA-2026-{member.pk:06d}",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )


def test_linkedin_add_to_profile_url_carries_the_certifications_fields(certificate):
    url = credentials.linkedin_add_url(certificate=certificate, page_url="https://ma.example/verify/abc/")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    params = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert params == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Certified Master Anaplanner",
        "organizationName": "Master Anaplanner Program",
        "issueYear": "2026",
        "issueMonth": "1",
        "expirationYear": "2026",
        "expirationMonth": "12",
        "certUrl": "https://ma.example/verify/abc/",
        "certId": certificate.number,
    }


def test_linkedin_uses_the_programs_organization_id_when_configured(certificate, settings):
    settings.MAHOME_LINKEDIN_ORGANIZATION_ID = "1234567"
    params = parse_qs(urlsplit(credentials.linkedin_add_url(certificate=certificate, page_url="x")).query)
    assert params["organizationId"] == ["1234567"] and "organizationName" not in params


def test_the_members_list_offers_linkedin_for_valid_certificates_only(client, member, certificate):
    expired = Certificate.objects.create(
        member=member,
        year=2025,
        number=f"MA-2025-{member.pk:06d}",
        valid_from=date(2025, 1, 1),
        valid_until=date(2026, 1, 1),
    )
    client.force_login(member)
    with time_machine.travel(NOW, tick=False):
        html = client.get("/certificates/").content.decode()
    assert html.count("https://www.linkedin.com/profile/add?") == 1
    assert f"certId={certificate.number}" in html and f"certId={expired.number}" not in html
    assert f"/verify/{certificate.verification_code}/certificate.pdf" in html


def _pdf(client, certificate, tmp_path) -> tuple[str, str]:
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/verify/{certificate.verification_code}/certificate.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(response.content)
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, check=True).stdout
    return info, text


def test_the_pdf_is_one_page_with_number_dates_and_the_public_address(client, certificate, tmp_path):
    info, text = _pdf(client, certificate, tmp_path)
    assert re.search(r"^Pages:\s+1$", info, re.M)
    for words in ("Ava Patel", certificate.number, "Certified Master Anaplanner", "1 January 2026", "31 December 2026"):
        assert words in text
    assert "Valid until 31 Dec 2026." in text and "2027" not in text
    assert f"http://127.0.0.1:8000/verify/{certificate.verification_code}/" in text
    # Rendered to PNG (as a reader sees it), kept with the screenshots.
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-singlefile",
            tmp_path / "certificate.pdf",
            SCREENSHOT_DIR / "certificate-pdf",
        ],
        check=True,
    )
    assert (SCREENSHOT_DIR / "certificate-pdf.png").stat().st_size > 10_000


def test_a_revoked_certificates_pdf_says_so(client, certificate, program_admin, tmp_path):
    with time_machine.travel(NOW, tick=False):  # revoked today, as the PDF is printed (not the real clock's day)
        services.certificate_revoke(certificate=certificate, reason="Exam result annulled.", by=program_admin)
    _info, text = _pdf(client, certificate, tmp_path)
    assert re.search(r"Status when printed\s+Revoked on 7 Dec 2026 because: Exam result annulled\.", text)
    # The diagonal REVOKED watermark is drawn rotated; pdftotext reads it letter by letter.
    header = text.split("This certifies that")[1].split("Certificate number")[0]
    assert sorted(re.findall(r"[REVOKD]", header)) == sorted("REVOKED")


def test_a_hidden_certificate_has_no_pdf(client, member, certificate):
    services.certificate_set_public(certificate=certificate, member=member, is_public=False)
    assert client.get(f"/verify/{certificate.verification_code}/certificate.pdf").status_code == 404
