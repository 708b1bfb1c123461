"""A verification queue built for throughput (issue 17, item 6): titled as such, the member's year
beside the claim (target, verified, pending, cap left for that type), image and PDF evidence shown
on the decide page, "decide and open the next", keyboard-friendly."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    ProgramYearFactory,
    UserFactory,
)
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/contributions/contribution/"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 16
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _waiting(member, activity_type, days: int, **fields):
    return ContributionFactory(
        member=member, activity_type=activity_type, submitted_at=timezone.now() - timedelta(days=days), **fields
    )


def test_the_changelist_is_titled_verification_queue(client, verifier, ma, speaking):
    _waiting(ma, speaking, 1)
    client.force_login(with_mfa(verifier))
    assert client.get(CHANGELIST).context["title"] == "Verification queue"
    assert client.get(CHANGELIST + "?state=all").context["title"] == "Contributions"


def test_the_queue_s_browser_title_starts_with_the_queue_and_keeps_its_note(client, verifier, ma, speaking):
    """The <title> began with the page's note ("Decisions are corrected… | Verification queue | …")."""
    _waiting(ma, speaking, 1)
    client.force_login(with_mfa(verifier))
    html = client.get(CHANGELIST).content.decode()
    assert "<title>Verification queue | MA Home admin</title>" in html
    assert "Decisions are corrected or reopened with a reason, never deleted." in html
    assert "<title>Contributions | MA Home admin</title>" in client.get(CHANGELIST + "?state=all").content.decode()


def _activity_type_filter(response):
    spec = next(s for s in response.context["cl"].filter_specs if getattr(s, "field_path", "") == "activity_type")
    return spec.title, [label for _pk, label in spec.lookup_choices]


@time_machine.travel(datetime(2026, 6, 1, 12, tzinfo=UTC), tick=False)
def test_the_activity_type_filter_lists_one_program_year_s_types(client, verifier, ma, speaking, replies):
    """It listed every type of every year (~70 on the demo), a sidebar taller than the queue."""
    last_year = ProgramYearFactory(year=2025)
    old = ActivityTypeFactory(program_year=last_year, name="Speak at a meetup")
    ActivityTypeFactory(program_year=last_year, name="Write a blog post")
    ActivityTypeFactory(program_year=ProgramYearFactory(year=2027), name="Host a workshop")
    client.force_login(with_mfa(verifier))
    # No year chosen: the current program year's types.
    assert _activity_type_filter(client.get(CHANGELIST)) == ("activity type (2026)", [replies.name, speaking.name])
    # A year chosen: that year's types.
    chosen = client.get(f"{CHANGELIST}?program_year__id__exact={last_year.pk}")
    assert _activity_type_filter(chosen) == ("activity type (2025)", [old.name, "Write a blog post"])
    # A type chosen from another year (a link from elsewhere) stays listed, so the selection shows.
    linked = client.get(f"{CHANGELIST}?activity_type__id__exact={old.pk}")
    assert _activity_type_filter(linked)[1] == [replies.name, speaking.name, f"{old.name} (2025)"]
    assert client.get(f"{CHANGELIST}?program_year__id__exact=x").status_code in (200, 302)


def test_decide_page_shows_the_members_year_and_cap_left_for_the_type(client, verifier, ma, year_2026, replies):
    ContributionFactory(member=ma, activity_type=replies, state="verified", claimed_points=60, awarded_points=60)
    item = _waiting(ma, replies, 2, claimed_points=20)
    client.force_login(with_mfa(verifier))
    response = client.get(f"{CHANGELIST}{item.pk}/decide/")
    year = response.context["member_year"]
    assert year.target_points == 400 and year.verified == 60 and year.pending == 20
    assert response.context["cap_left"] == 40  # a cap of 100, 60 verified of that type
    html = response.content.decode()
    assert 'id="member-year"' in html
    for text in ("Target", "400", "Verified so far", "Pending", "Cap left for this type"):
        assert text in html, text


def test_image_and_pdf_evidence_are_shown_on_the_decide_page(client, verifier, ma, speaking):
    picture = _waiting(ma, speaking, 3)
    picture.evidence_file.save("badge.png", ContentFile(PNG), save=True)
    paper = _waiting(ma, speaking, 2)
    paper.evidence_file.save("certificate.pdf", ContentFile(PDF), save=True)
    client.force_login(with_mfa(verifier))
    html = client.get(f"{CHANGELIST}{picture.pk}/decide/").content.decode()
    assert f'<img class="evidence-preview" src="/contributions/{picture.pk}/evidence/"' in html
    html = client.get(f"{CHANGELIST}{paper.pk}/decide/").content.decode()
    assert f'<iframe class="evidence-preview" src="/contributions/{paper.pk}/evidence/?preview=1"' in html
    preview = client.get(f"/contributions/{paper.pk}/evidence/?preview=1")
    assert preview.status_code == 200 and preview["Content-Type"] == "application/pdf"
    assert preview["Content-Disposition"].startswith("inline")
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in preview["Content-Security-Policy"]
    # Without ?preview, or for the member, a PDF still downloads.
    assert client.get(f"/contributions/{paper.pk}/evidence/")["Content-Disposition"].startswith("attachment")
    client.force_login(ma)
    owner = client.get(f"/contributions/{paper.pk}/evidence/?preview=1")
    assert owner["Content-Disposition"].startswith("attachment")


def test_decide_and_open_the_next_goes_to_the_oldest_waiting_item(client, verifier, ma, speaking):
    other = UserFactory(email="next@example.com")
    MACertificationFactory(user=other)
    first = _waiting(ma, speaking, 5)
    second = _waiting(other, speaking, 3)
    third = _waiting(ma, speaking, 1)
    client.force_login(with_mfa(verifier))
    response = client.post(f"{CHANGELIST}{second.pk}/decide/", {"decision": "verify", "next": "1"})
    assert response.status_code == 302 and response["Location"] == f"{CHANGELIST}{first.pk}/decide/"
    response = client.post(f"{CHANGELIST}{first.pk}/decide/", {"decision": "verify", "next": "1"})
    assert response["Location"] == f"{CHANGELIST}{third.pk}/decide/"
    response = client.post(f"{CHANGELIST}{third.pk}/decide/", {"decision": "verify", "next": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert "The queue is empty" in response.content.decode()
    # Without "next", the decision goes back to the queue as before.
    fourth = _waiting(other, speaking, 1)
    assert client.post(f"{CHANGELIST}{fourth.pk}/decide/", {"decision": "verify"})["Location"] == CHANGELIST


def test_decide_page_is_keyboard_friendly(client, verifier, ma, speaking):
    item = _waiting(ma, speaking, 1)
    _waiting(ma, speaking, 2)
    client.force_login(with_mfa(verifier))
    html = client.get(f"{CHANGELIST}{item.pk}/decide/").content.decode()
    assert 'value="verify"' in html and "autofocus" in html
    assert 'accesskey="n"' in html and "Decide and open the next" in html
    assert "1 more waiting" in html


def test_the_decide_page_of_a_program_type_with_no_cap_says_so(client, verifier, ma, year_2026):
    open_type = ActivityTypeFactory(program_year=year_2026, points=50, annual_cap=None)
    item = _waiting(ma, open_type, 1)
    client.force_login(with_mfa(verifier))
    response = client.get(f"{CHANGELIST}{item.pk}/decide/")
    assert response.context["cap_left"] is None and "no cap" in response.content.decode()


def test_the_decide_page_queries_do_not_grow_with_the_members_history(
    client, verifier, ma, speaking, replies, django_assert_max_num_queries
):
    item = _waiting(ma, speaking, 3)
    client.force_login(with_mfa(verifier))
    client.get(f"{CHANGELIST}{item.pk}/decide/")  # warm the session
    # session, MFA, the item, the member's year, the queue, the same claims made before (one query since the hint)
    with django_assert_max_num_queries(17) as small:
        client.get(f"{CHANGELIST}{item.pk}/decide/")
    for i in range(15):
        ContributionFactory(member=ma, activity_type=replies if i % 2 else speaking, state="verified", awarded_points=2)
        _waiting(ma, speaking, 1)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(f"{CHANGELIST}{item.pk}/decide/").status_code == 200
