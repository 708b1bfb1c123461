import re
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contributions.evidence import MAX_EVIDENCE_BYTES
from contributions.models import Certificate, Contribution
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    TechnicalRequirementFactory,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%demo\n"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def _form(activity_type, **extra):
    data = {
        "activity_type": activity_type.pk,
        "title": "Talk at the user group",
        "description": "Forty people",
        "occurred_on": "2026-10-01",
        "quantity": "1",
        "evidence_url": "https://example.com/talk",
        "action": "submit",
    }
    data.update(extra)
    return data


def test_member_submits_with_a_file_and_cannot_set_points(client, ma, speaking):
    client.force_login(ma)
    upload = SimpleUploadedFile("agenda.pdf", PDF, content_type="application/pdf")
    response = client.post(
        "/contributions/new/", _form(speaking, claimed_points="9999", awarded_points="9999", evidence_file=upload)
    )
    contribution = Contribution.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/contributions/{contribution.pk}/"
    assert contribution.claimed_points == 100 and contribution.awarded_points is None
    assert contribution.state == "submitted"
    assert "agenda" not in contribution.evidence_file.name  # random, unguessable name
    evidence = client.get(f"/contributions/{contribution.pk}/evidence/")
    assert evidence.status_code == 200
    assert evidence["Content-Type"] == "application/pdf"
    assert evidence["Content-Disposition"].startswith("attachment")


def test_an_image_is_shown_inline_but_a_renamed_file_is_refused(client, ma, speaking):
    client.force_login(ma)
    fake = SimpleUploadedFile("evil.png", b"<html><script>alert(1)</script>", content_type="image/png")
    response = client.post("/contributions/new/", _form(speaking, evidence_file=fake))
    assert response.status_code == 200
    assert "not a file type we accept" in response.content.decode()
    assert not Contribution.objects.exists()
    image = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    client.post("/contributions/new/", _form(speaking, evidence_file=image))
    contribution = Contribution.objects.get()
    evidence = client.get(f"/contributions/{contribution.pk}/evidence/")
    assert evidence["Content-Type"] == "image/png" and evidence["Content-Disposition"].startswith("inline")


def test_a_file_over_the_size_limit_gets_a_clear_message(client, ma, speaking):
    client.force_login(ma)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * MAX_EVIDENCE_BYTES, content_type="application/pdf")
    response = client.post("/contributions/new/", _form(speaking, evidence_file=big))
    assert "evidence files can be at most 10.0\xa0MB" in response.content.decode()
    assert not Contribution.objects.exists()


def test_submission_after_the_deadline_shows_the_reason(client, ma, speaking):
    with time_machine.travel(date(2027, 1, 3), tick=False):
        client.force_login(ma)
        response = client.post("/contributions/new/", _form(speaking))
    assert response.status_code == 200
    assert "The 2026 program year closed on 1 Jan 2027" in response.content.decode()
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("suffix", ["", "edit/", "evidence/"])
def test_another_members_contribution_is_a_404(client, ma, other_member, speaking, suffix):
    theirs = ContributionFactory(member=other_member, activity_type=speaking, state="draft")
    client.force_login(ma)
    assert client.get(f"/contributions/{theirs.pk}/{suffix}").status_code == 404


@pytest.mark.parametrize("action", ["submit", "withdraw"])
def test_another_member_cannot_change_a_contribution(client, ma, other_member, speaking, action):
    theirs = ContributionFactory(member=other_member, activity_type=speaking, state="draft")
    client.force_login(ma)
    assert client.post(f"/contributions/{theirs.pk}/{action}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "draft"


def test_edit_a_draft_recomputes_points(client, ma, speaking):
    client.force_login(ma)
    client.post("/contributions/new/", _form(speaking, action="draft"))
    contribution = Contribution.objects.get()
    assert contribution.state == "draft"
    client.post(f"/contributions/{contribution.pk}/edit/", _form(speaking, quantity="3", action="draft"))
    contribution.refresh_from_db()
    assert contribution.claimed_points == 300 and contribution.state == "draft"
    client.post(f"/contributions/{contribution.pk}/submit/")
    contribution.refresh_from_db()
    assert contribution.state == "submitted"


def test_list_shows_caps_and_excess(client, ma, replies):
    ContributionFactory(member=ma, activity_type=replies, quantity=60, claimed_points=120, state="verified")
    client.force_login(ma)
    html = client.get("/contributions/").content.decode()
    assert "20 not counted" in html


def test_a_type_without_an_annual_cap_shows_a_dash_not_none(client, ma, speaking, replies):
    ContributionFactory(member=ma, activity_type=speaking, state="verified", awarded_points=100)
    ContributionFactory(member=ma, activity_type=replies, quantity=10, claimed_points=20, state="verified")
    client.force_login(ma)
    html = client.get("/contributions/").content.decode()
    cap_cells = re.findall(r'<td data-label="Annual cap" class="num">([^<]*)</td>', html)
    assert sorted(cap_cells) == ["100", "—"]
    assert "None" not in html


def test_dashboard_shows_target_formula_status_and_pace(client, member, speaking):
    MACertificationFactory(user=member, qualified_on=date(2026, 7, 1))
    ContributionFactory(member=member, activity_type=speaking, state="verified", awarded_points=160)
    TechnicalRequirementFactory(program_year=speaking.program_year, name="Certified Solution Architect, valid for 2027")
    client.force_login(member)
    response = client.get("/")
    html = response.content.decode()
    assert "ceil(400 × 6 months remaining ÷ 12) = 200 points" in html
    assert 'data-testid="target">200<' in html
    assert 'data-testid="verified">160<' in html
    assert "Certified Solution Architect, valid for 2027" in html
    assert 'id="points-chart-data"' in html
    assert "style=" not in html and "<script>" not in html
    standing = response.context["maintenance"]["standing"]
    assert standing.status == "on_track"  # 160 ≥ 200 × 145/184 (the pace since qualifying)
    assert standing.pace_points == 158
    assert response.context["maintenance"]["bar"]["verified"] == 80.0


def test_dashboard_for_a_user_without_certification_explains(client, member, year_2026):
    client.force_login(member)
    assert "No Master Anaplanner certification on record" in client.get("/").content.decode()


def test_dashboard_query_count_does_not_grow_with_history(client, ma, speaking, replies, django_assert_max_num_queries):
    client.force_login(ma)
    ContributionFactory.create_batch(5, member=ma, activity_type=speaking, state="verified", awarded_points=100)
    client.get("/")  # the session's first request records it; measure the steady state
    with CaptureQueriesContext(connection) as small:
        assert client.get("/").status_code == 200
    ContributionFactory.create_batch(250, member=ma, activity_type=speaking, state="verified", awarded_points=100)
    ContributionFactory.create_batch(245, member=ma, activity_type=replies, state="submitted")
    ContributionFactory(member=ma, activity_type=speaking, state="needs_info", occurred_on=date(2026, 1, 5))
    ContributionFactory.create_batch(3, member=ma, activity_type=speaking, state="draft")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/")
    assert response.status_code == 200
    # session, user, notifications badge, the maintenance panel (the member with their drafts and question,
    # the years, certificate, standing, latest contributions) and the engagements and community cards
    assert len(small.captured_queries) <= 18


def test_opt_out_and_undo_from_the_dashboard(client, ma, year_2026):
    client.force_login(ma)
    client.post("/contributions/opt-out/", {"reason": "Parental leave"})
    assert client.get("/").context["maintenance"]["standing"].status == "opted_out"
    client.post("/contributions/opt-out/undo/")
    assert client.get("/").context["maintenance"]["standing"].status != "opted_out"


def test_catalogue_lists_this_and_next_year_once_published(client, ma, speaking):
    next_year = ProgramYearFactory(year=2027)
    ActivityTypeFactory(program_year=next_year, name="Polaris talk")
    client.force_login(ma)
    html = client.get("/contributions/catalogue/").content.decode()
    assert "Speak at an event" in html and "Polaris talk" not in html
    next_year.published_at = timezone.now()
    next_year.save()
    html = client.get("/contributions/catalogue/").content.decode()
    assert "Polaris talk" in html


def test_verify_page_shows_name_year_validity_only(client, member, year_2026):
    certificate = Certificate.objects.create(
        member=member,
        program_year=year_2026,
        year=2027,
        number="MA-2027-000001",
        valid_from=date(2027, 1, 1),
        valid_until=date(2028, 1, 1),
    )
    response = client.get(f"/verify/{certificate.verification_code}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ava Patel" in html and "2027" in html and "Valid" in html
    assert member.email not in html
    assert len(certificate.verification_code) >= 24


def test_unknown_certificate_code_is_a_friendly_404(client, db):
    response = client.get("/verify/not-a-code/")
    assert response.status_code == 404
    assert "We couldn't find that certificate" in response.content.decode()
