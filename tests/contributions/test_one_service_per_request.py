"""One request, one service, one transaction: a refused step leaves nothing of the request saved."""

import pytest

from contributions import services
from contributions.models import Contribution
from tests.factories import ContributionFactory

pytestmark = pytest.mark.django_db


def _edit(activity_type, **extra):
    return {
        "activity_type": activity_type.pk,
        "title": "Keynote at the user group",
        "description": "Forty people",
        "occurred_on": "2026-10-01",
        "quantity": "1",
        "evidence_url": "",
        "action": "submit",
    } | extra


def test_a_refused_submit_after_an_edit_saves_nothing(client, ma, speaking):
    """The type needs evidence: the edit would pass, the submit is refused; the page says nothing was
    saved, and the draft is as it was (it used to keep the edit)."""
    draft = ContributionFactory(
        member=ma, activity_type=speaking, title="Talk", state=Contribution.State.DRAFT, evidence_url=""
    )
    client.force_login(ma)
    page = client.post(f"/contributions/{draft.pk}/edit/", _edit(speaking))
    assert page.status_code == 200
    assert "needs evidence" in page.content.decode()
    draft.refresh_from_db()
    assert (draft.title, draft.state) == ("Talk", Contribution.State.DRAFT)
    assert draft.history.count() == 1


def test_saving_the_edit_as_a_draft_still_saves_it(client, ma, speaking):
    draft = ContributionFactory(
        member=ma, activity_type=speaking, title="Talk", state=Contribution.State.DRAFT, evidence_url=""
    )
    client.force_login(ma)
    assert client.post(f"/contributions/{draft.pk}/edit/", _edit(speaking, action="draft")).status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.state) == ("Keynote at the user group", Contribution.State.DRAFT)


def test_the_edit_service_submits_in_the_same_transaction(ma, speaking):
    draft = ContributionFactory(
        member=ma, activity_type=speaking, title="Talk", state=Contribution.State.DRAFT, evidence_url=""
    )
    with pytest.raises(services.ContributionError, match="needs evidence"):
        services.contribution_edit(
            contribution=draft,
            member=ma,
            activity_type=speaking,
            title="Keynote",
            occurred_on=draft.occurred_on,
            quantity=1,
            submit=True,
        )
    draft.refresh_from_db()
    assert draft.title == "Talk"
    edited = services.contribution_edit(
        contribution=draft,
        member=ma,
        activity_type=speaking,
        title="Keynote",
        occurred_on=draft.occurred_on,
        quantity=1,
        evidence_url="https://example.com/keynote",
        submit=True,
    )
    assert edited.state == Contribution.State.SUBMITTED
