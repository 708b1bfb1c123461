"""The public credential page /verify/<code>/ and its JSON twin: the same facts, status in words."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.cache import cache

from contributions import services
from contributions.models import Certificate
from tests.factories import MACertificationFactory, ProgramYearFactory, TechnicalRequirementFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def renewed(member, program_admin):
    """Ava's 2026 certificate, renewed by the 2025 review (400 points and one requirement)."""
    year_2025 = ProgramYearFactory(year=2025, target_points=400)
    ProgramYearFactory(year=2026)
    TechnicalRequirementFactory(program_year=year_2025, name="Certified Solution Architect, valid for 2026")
    MACertificationFactory(user=member, qualified_on=date(2024, 3, 10))
    certificate = Certificate.objects.create(
        member=member,
        program_year=year_2025,
        year=2026,
        number=f"MA-2026-{member.pk:06d}",
        source=Certificate.Source.RENEWAL,
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )
    return certificate


def _page(client, certificate) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/verify/{certificate.verification_code}/")
    assert response.status_code == 200
    return response.content.decode()


def test_valid_page_names_holder_credential_issuer_criteria_dates_and_check_time(
    client, renewed, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        html = _page(client, renewed)
    assert "Ava Patel" in html and "Certified Master Anaplanner" in html
    assert "Master Anaplanner Program" in html and 'href="http://127.0.0.1:8000"' in html
    assert "400 maintenance points" in html and "Certified Solution Architect, valid for 2026" in html
    assert "four" not in html or "emerging talent" in html
    assert "Valid until 31 Dec 2026." in html and "1 January 2026" in html
    assert "Checked on 7 Dec 2026, 10:30" in html
    assert "img/ma-badge" in html and renewed.number in html
    assert f'<meta property="og:url" content="http://127.0.0.1:8000/verify/{renewed.verification_code}/">' in html
    assert '<meta property="og:title" content="Ava Patel · Certified Master Anaplanner 2026">' in html
    assert '<meta property="og:image" content="http://127.0.0.1:8000/static/img/ma-badge' in html
    assert f"/verify/{renewed.verification_code}.json" in html
    assert "ava@example.com" not in html


def test_expired_page_says_since_when(client, renewed):
    with time_machine.travel(datetime(2027, 2, 1, tzinfo=UTC), tick=False):
        html = client.get(f"/verify/{renewed.verification_code}/").content.decode()
    assert "Expired after 31 Dec 2026." in html and "status-expired" in html


def test_revoked_page_says_when_and_why_even_when_hidden(client, member, renewed, program_admin):
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=UTC), tick=False):
        services.certificate_revoke(certificate=renewed, reason="Exam result annulled.", by=program_admin)
    services.certificate_set_public(certificate=renewed, member=member, is_public=False)
    html = _page(client, renewed)
    assert "Revoked on 2 Nov 2026 because: Exam result annulled." in html and "status-revoked" in html
    assert "Ava Patel" not in html
    with time_machine.travel(NOW, tick=False):
        data = client.get(f"/verify/{renewed.verification_code}.json").json()
    assert data["status"] == "revoked" and "Exam result annulled." in data["status_text"]
    assert "holder" not in data


def test_hidden_page_says_only_not_public(client, member, renewed):
    services.certificate_set_public(certificate=renewed, member=member, is_public=False)
    html = _page(client, renewed)
    assert "This certificate is not public" in html
    assert "Ava Patel" not in html and renewed.number not in html and 'name="robots" content="noindex"' in html
    with time_machine.travel(NOW, tick=False):
        data = client.get(f"/verify/{renewed.verification_code}.json").json()
    assert data == {
        "code": renewed.verification_code,
        "public": False,
        "status": "not_public",
        "checked_at": "2026-12-07T10:30:00Z",
    }


def test_json_answers_the_same_facts_as_the_page(client, renewed):
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/verify/{renewed.verification_code}.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()
    assert data["holder"] == "Ava Patel" and data["number"] == renewed.number
    assert data["credential"] == "Certified Master Anaplanner" and data["certified_for"] == 2026
    assert data["issuer"] == {"name": "Master Anaplanner Program", "url": "http://127.0.0.1:8000"}
    assert (data["valid_from"], data["valid_until"], data["status"]) == ("2026-01-01", "2026-12-31", "valid")
    assert data["status_text"] == "Valid until 31 Dec 2026." and data["checked_at"] == "2026-12-07T10:30:00Z"
    assert "400 maintenance points" in data["basis"]
    assert "ava@example.com" not in response.content.decode()
    html = _page(client, renewed)
    for value in (data["holder"], data["number"], data["status_text"], data["basis"]):
        assert value in html


def test_json_is_rate_limited_per_address(client, renewed, settings):
    settings.MAHOME_VERIFY_JSON_RATE = "3/m/ip"
    url = f"/verify/{renewed.verification_code}.json"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get(url)
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert limited.json()["error"] == "rate_limited"
    assert client.get("/verify/unknown-code.json").status_code == 429


def test_unknown_code_json_is_404(client, db):
    response = client.get("/verify/not-a-code.json")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_holder_hides_and_shows_their_own_certificate_only(client, member, other_member, renewed):
    client.force_login(other_member)
    assert client.post(f"/certificates/{renewed.pk}/visibility/", {"public": "0"}).status_code == 404
    renewed.refresh_from_db()
    assert renewed.is_public
    client.force_login(member)
    response = client.post(f"/certificates/{renewed.pk}/visibility/", {"public": "0"})
    assert response.status_code == 302
    renewed.refresh_from_db()
    assert not renewed.is_public and renewed.history.first().history_user == member
    assert "Show" in client.get("/certificates/").content.decode()
    client.post(f"/certificates/{renewed.pk}/visibility/", {"public": "1"})
    renewed.refresh_from_db()
    assert renewed.is_public


def test_a_replaced_certificates_page_and_json_point_to_the_corrected_one(client, renewed, program_admin):
    with time_machine.travel(NOW, tick=False):
        new = services.certificate_reissue(certificate=renewed, correction="Name corrected.", by=program_admin)
    html = _page(client, renewed)
    assert "Replaced on 7 Dec 2026 by a corrected certificate with the same number." in html
    assert f'href="http://127.0.0.1:8000/verify/{new.verification_code}/"' in html
    with time_machine.travel(NOW, tick=False):
        data = client.get(f"/verify/{renewed.verification_code}.json").json()
    assert data["status"] == "superseded"
    assert data["links"]["replaced_by"] == f"http://127.0.0.1:8000/verify/{new.verification_code}/"


def test_json_answers_in_a_fixed_number_of_queries(client, renewed, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert client.get(f"/verify/{renewed.verification_code}.json").status_code == 200
