"""The contribution form and the verifier's questions (issue 13, finding 5).

The form showed no points or evidence guidance before submitting; a date in 2025 said "pick an
activity type of the right year" when none existed, and the range read "1 Jan 2026 – 1 Jan 2027";
a needs-information item had no reply field and could be resubmitted unanswered; drafts could
only be withdrawn; evidence files lost their name.
"""

from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from contributions import services
from contributions.models import Contribution, ContributionMessage
from tests.factories import ActivityTypeFactory, ContributionFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%talk\n"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def _form(activity_type, **extra):
    return {
        "activity_type": activity_type.pk,
        "title": "Talk at the user group",
        "description": "Forty people",
        "occurred_on": "2026-10-01",
        "quantity": "1",
        "evidence_url": "https://example.com/talk",
        "action": "submit",
    } | extra


# --- Live preview (htmx) -----------------------------------------------------------------------


def test_the_preview_shows_points_cap_left_and_evidence_needed(client, ma, replies, year_2026):
    ContributionFactory(member=ma, activity_type=replies, state="verified", claimed_points=30, awarded_points=30)
    client.force_login(ma)
    response = client.get(
        "/contributions/preview/", {"activity_type": replies.pk, "quantity": "10"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "20 points" in text  # 10 × 2
    assert "70 of this type's 100-point annual cap left" in text
    assert "No evidence needed" in text


def test_the_preview_warns_when_the_claim_goes_over_the_cap_and_names_the_evidence(client, ma, speaking, year_2026):
    capped = ActivityTypeFactory(program_year=year_2026, name="Blog post", points=25, annual_cap=50)
    client.force_login(ma)
    text = client.get("/contributions/preview/", {"activity_type": capped.pk, "quantity": "3"}).content.decode()
    assert "75 points" in text
    assert "only 50 count" in text
    assert "Evidence needed" in text
    over = client.get("/contributions/preview/", {"activity_type": speaking.pk, "quantity": "50"}).content.decode()
    assert "at most 20 items per claim" in over


def test_the_preview_of_nothing_or_garbage_is_a_hint_not_an_error(client, ma, speaking):
    client.force_login(ma)
    for params in ({}, {"activity_type": "²", "quantity": "abc"}, {"activity_type": speaking.pk, "quantity": "x"}):
        response = client.get("/contributions/preview/", params)
        assert response.status_code == 200
        assert "Choose an activity type" in response.content.decode() or "quantity" in response.content.decode()


def test_the_form_asks_htmx_for_the_preview(client, ma, speaking):
    client.force_login(ma)
    page = client.get("/contributions/new/").content.decode()
    assert 'hx-get="/contributions/preview/"' in page
    assert 'id="claim-preview"' in page


# --- Dates outside the type's year ------------------------------------------------------------


def test_a_date_no_program_year_covers_says_so_with_an_inclusive_range(client, ma, speaking):
    client.force_login(ma)
    page = client.post("/contributions/new/", _form(speaking, occurred_on="2025-05-01")).content.decode()
    assert "1 Jan 2026 – 31 Dec 2026" in page
    assert "1 Jan 2027" not in page
    assert "No program year covers 1 May 2025" in page
    assert "right year" not in page


def test_a_date_of_another_year_names_that_years_types(client, ma, speaking):
    from tests.factories import ProgramYearFactory

    earlier = ProgramYearFactory(year=2025, grace_until=date(2026, 12, 31))
    ActivityTypeFactory(program_year=earlier, name="Speak at an event", points=100)
    client.force_login(ma)
    page = client.post("/contributions/new/", _form(speaking, occurred_on="2025-05-01")).content.decode()
    assert "choose a 2025 activity type" in page


# --- The verifier's question and the member's answer ------------------------------------------


@pytest.fixture
def asked(ma, speaking, verifier):
    contribution = ContributionFactory(
        member=ma, activity_type=speaking, title="Keynote", state="submitted", evidence_url="https://example.com/k"
    )
    services.contribution_decide(
        contribution_id=contribution.pk, verifier=verifier, decision="needs_info", note="Which event was it?"
    )
    return contribution


def test_a_question_starts_a_thread_and_the_member_answers_in_a_reply_box(client, ma, asked, verifier):
    client.force_login(ma)
    page = client.get(f"/contributions/{asked.pk}/").content.decode()
    assert "Which event was it?" in page
    assert f'action="/contributions/{asked.pk}/reply/"' in page
    response = client.post(f"/contributions/{asked.pk}/reply/", {"body": "The Paris user group, 12 May."})
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.state == Contribution.State.SUBMITTED
    thread = list(ContributionMessage.objects.filter(contribution=asked).order_by("pk"))
    assert [(m.kind, m.author, m.body) for m in thread] == [
        ("question", verifier, "Which event was it?"),
        ("answer", ma, "The Paris user group, 12 May."),
    ]
    services.contribution_decide(contribution_id=asked.pk, verifier=verifier, decision="needs_info", note="Slides?")
    page = client.get(f"/contributions/{asked.pk}/").content.decode()
    assert page.index("Which event was it?") < page.index("The Paris user group") < page.index("Slides?")


def test_resubmitting_without_an_answer_is_refused(client, ma, asked):
    client.force_login(ma)
    client.post(f"/contributions/{asked.pk}/submit/", follow=True)
    asked.refresh_from_db()
    assert asked.state == Contribution.State.NEEDS_INFO
    with pytest.raises(services.ContributionError, match="Answer the verifier"):
        services.contribution_submit(contribution=asked, member=ma)
    response = client.post(f"/contributions/{asked.pk}/reply/", {"body": "   "})
    assert "Write your answer" in response.content.decode()
    asked.refresh_from_db()
    assert asked.state == Contribution.State.NEEDS_INFO


def test_editing_an_item_that_needs_information_asks_for_the_answer_too(client, ma, asked, speaking):
    client.force_login(ma)
    page = client.post(f"/contributions/{asked.pk}/edit/", _form(speaking)).content.decode()
    assert "Answer the verifier" in page
    response = client.post(f"/contributions/{asked.pk}/edit/", _form(speaking, answer="It was in Paris."))
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.state == Contribution.State.SUBMITTED
    assert asked.messages.filter(kind="answer", body="It was in Paris.").exists()


def test_another_member_cannot_reply(client, other_member, asked):
    client.force_login(other_member)
    assert client.post(f"/contributions/{asked.pk}/reply/", {"body": "Me"}).status_code == 404


# --- Drafts are deleted, not withdrawn --------------------------------------------------------


def test_a_draft_can_be_deleted_and_a_submitted_item_cannot(client, ma, speaking):
    draft = ContributionFactory(member=ma, activity_type=speaking, state="draft")
    sent = ContributionFactory(member=ma, activity_type=speaking, state="submitted")
    client.force_login(ma)
    page = client.get(f"/contributions/{draft.pk}/").content.decode()
    assert "Delete draft" in page and ">Withdraw<" not in page
    assert client.post(f"/contributions/{draft.pk}/delete/").status_code == 302
    assert not Contribution.objects.filter(pk=draft.pk).exists()
    client.post(f"/contributions/{sent.pk}/delete/")
    assert Contribution.objects.filter(pk=sent.pk).exists()


def test_another_members_draft_is_a_404(client, other_member, ma, speaking):
    draft = ContributionFactory(member=ma, activity_type=speaking, state="draft")
    client.force_login(other_member)
    assert client.post(f"/contributions/{draft.pk}/delete/").status_code == 404
    assert Contribution.objects.filter(pk=draft.pk).exists()


def test_evidence_keeps_its_name_on_the_edit_form(client, ma, speaking):
    client.force_login(ma)
    upload = SimpleUploadedFile("Paris agenda.pdf", PDF, content_type="application/pdf")
    client.post("/contributions/new/", _form(speaking, evidence_file=upload, action="draft"))
    draft = Contribution.objects.get(member=ma)
    assert "Paris agenda.pdf" in client.get(f"/contributions/{draft.pk}/edit/").content.decode()
