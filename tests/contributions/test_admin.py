from datetime import date, timedelta
from io import BytesIO

import openpyxl
import pytest
from django.utils import timezone

from accounts.models import Notification
from contributions import selectors
from contributions.models import Contribution, RequirementStatus
from tests.factories import ContributionFactory, MACertificationFactory, TechnicalRequirementFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/contributions/contribution/"


def _queue(ma, speaking):
    now = timezone.now()
    items = []
    for days, title in [(1, "Newest"), (10, "Oldest"), (5, "Middle")]:
        items.append(
            ContributionFactory(member=ma, activity_type=speaking, title=title, submitted_at=now - timedelta(days=days))
        )
    ContributionFactory(member=ma, activity_type=speaking, title="A draft", state="draft")
    return items


def test_queue_shows_submitted_items_oldest_first_with_evidence(client, verifier, ma, speaking):
    _queue(ma, speaking)
    client.force_login(with_mfa(verifier))
    response = client.get(CHANGELIST)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Oldest") < html.index("Middle") < html.index("Newest")
    assert "A draft" not in html
    assert "Decide" in html
    assert "A draft" in client.get(CHANGELIST + "?state=all").content.decode()


def test_bulk_verify_at_claimed_points(client, verifier, ma, speaking):
    items = _queue(ma, speaking)
    client.force_login(with_mfa(verifier))
    client.post(CHANGELIST, {"action": "verify_at_claimed", "_selected_action": [c.pk for c in items]}, follow=True)
    assert set(Contribution.objects.filter(pk__in=[c.pk for c in items]).values_list("state", "awarded_points")) == {
        ("verified", 100)
    }


def test_needs_info_action_sends_the_message(client, verifier, ma, speaking):
    item = _queue(ma, speaking)[0]
    client.force_login(with_mfa(verifier))
    page = client.post(CHANGELIST, {"action": "ask_for_information", "_selected_action": [item.pk]})
    assert "Message to the member" in page.content.decode()
    client.post(
        CHANGELIST,
        {"action": "ask_for_information", "_selected_action": [item.pk], "apply": "1", "note": "Which customer?"},
    )
    item.refresh_from_db()
    assert item.state == "needs_info" and item.decision_note == "Which customer?"
    assert Notification.objects.get(user=ma, kind="maintenance.decision").body == "Which customer?"


def test_decide_page_awards_other_points_with_a_note(client, verifier, ma, speaking):
    item = _queue(ma, speaking)[0]
    client.force_login(with_mfa(verifier))
    page = client.post(f"{CHANGELIST}{item.pk}/decide/", {"decision": "verify", "awarded_points": "60"})
    assert "Explain to the member" in page.content.decode()
    client.post(f"{CHANGELIST}{item.pk}/decide/", {"decision": "verify", "awarded_points": "60", "note": "Short talk"})
    item.refresh_from_db()
    assert item.state == "verified" and item.awarded_points == 60 and item.decided_by == verifier


def test_verifier_cannot_edit_points_in_the_change_form(client, verifier, ma, speaking):
    item = _queue(ma, speaking)[0]
    client.force_login(with_mfa(verifier))
    client.post(f"{CHANGELIST}{item.pk}/change/", {"awarded_points": "999", "state": "verified"})
    item.refresh_from_db()
    assert item.state == "submitted" and item.awarded_points is None


def test_report_rows_filters_chart_and_exports(client, program_admin, ma, speaking, other_member):
    MACertificationFactory(user=other_member)
    ContributionFactory(member=ma, activity_type=speaking, state="verified", awarded_points=100)
    ContributionFactory(member=ma, activity_type=speaking, submitted_at=timezone.now() - timedelta(days=3))
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/programyear/{speaking.program_year.pk}/report/"
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert ma.email in html and other_member.email in html
    assert 'id="status-chart-data"' in html
    assert response.context["queue"] == {"size": 1, "oldest_days": 3}
    csv = client.get(url + "?export=csv&q=ava").content.decode("utf-8-sig")
    lines = csv.strip().splitlines()
    assert lines[0].startswith(
        "program_year,certificate_number,legacy_number,email,name,qualified_on,target,target_reason,verified"
    )
    # The current certificate's number (MA-YYYY-NNNNNN, empty without one), then the import's reference.
    current = selectors.certificate_current(member=ma)
    number, legacy = (current.number if current else ""), ma.certification.certificate_number
    assert len(lines) == 2 and lines[1].startswith(f"2026,{number},{legacy},{ma.email},Ava Patel,2024-03-10,400,")
    workbook = openpyxl.load_workbook(BytesIO(client.get(url + "?export=xlsx").content))
    assert workbook.active.max_row == 3


def test_requirement_statuses_import(client, program_admin, ma, year_2026):
    requirement = TechnicalRequirementFactory(program_year=year_2026)
    client.force_login(with_mfa(program_admin))
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = f"requirement_id,member_email,met_on,note\n{requirement.pk},{ma.email},2026-05-04,badge seen\n"
    response = client.post(
        "/admin/contributions/requirementstatus/import/",
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("s.csv", data.encode(), "text/csv")},
    )
    assert response.status_code == 200
    confirm = response.context.get("confirm_form")
    assert confirm is not None, response.content.decode()[:2000]
    client.post("/admin/contributions/requirementstatus/process_import/", confirm.initial)
    status = RequirementStatus.objects.get()
    assert status.member == ma and status.met_on == date(2026, 5, 4)
