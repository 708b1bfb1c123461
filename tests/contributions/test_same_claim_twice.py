"""The same claim twice: refused to the member, pointed out to the verifier.

Found walking the demo: a member submitted the same type, title, date and link twice; both were saved
and the queue listed two identical rows with nothing to tell the verifier. The same claim is one with
the same member, type, date, title (case and surrounding spaces aside) and evidence link, while the
first is not withdrawn or rejected. A member's claims are written one at a time (a lock of their own in
PostgreSQL), so two submits of the same form at once still make one claim.
"""

import threading
from datetime import date

import pytest
import time_machine
from django.db import connections

from contributions import selectors, services
from contributions.models import Contribution
from tests.factories import ContributionFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

CLAIM = {
    "title": "Talk at the user group",
    "occurred_on": date(2026, 10, 1),
    "quantity": 1,
    "evidence_url": "https://example.com/talk",
}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(date(2026, 11, 23), tick=False):
        yield


def _claim(member, activity_type, **changes) -> Contribution:
    return services.contribution_create(member=member, activity_type=activity_type, submit=True, **(CLAIM | changes))


def test_the_same_claim_twice_is_refused_naming_the_first(ma, speaking):
    first = _claim(ma, speaking)

    with pytest.raises(services.ContributionError, match=f"#{first.pk}") as refused:
        _claim(ma, speaking, title="  talk at the USER group ")

    assert "withdraw it and claim the total" in str(refused.value)  # a submitted claim is not edited
    assert Contribution.objects.count() == 1


def test_a_different_date_title_or_link_is_another_claim(ma, speaking):
    _claim(ma, speaking)
    _claim(ma, speaking, occurred_on=date(2026, 10, 2))
    _claim(ma, speaking, title="Talk at the partner summit")
    _claim(ma, speaking, evidence_url="https://example.com/talk-2")

    assert Contribution.objects.count() == 4


@pytest.mark.parametrize("state", [Contribution.State.WITHDRAWN, Contribution.State.REJECTED])
def test_a_claim_withdrawn_or_rejected_may_be_claimed_again(ma, speaking, state):
    first = _claim(ma, speaking)
    Contribution.objects.filter(pk=first.pk).update(state=state)

    again = _claim(ma, speaking)

    assert again.pk != first.pk


def test_a_draft_changed_into_a_claim_already_made_is_refused(ma, speaking):
    first = _claim(ma, speaking)
    draft = services.contribution_create(
        member=ma, activity_type=speaking, submit=False, **(CLAIM | {"title": "Draft talk"})
    )

    with pytest.raises(services.ContributionError, match=f"#{first.pk}"):
        services.contribution_update(contribution=draft, member=ma, activity_type=speaking, **CLAIM)
    draft.refresh_from_db()
    assert draft.title == "Draft talk"


def test_the_form_sent_twice_shows_the_refusal_and_keeps_one_claim(client, ma, speaking):
    client.force_login(ma)
    form = {
        "activity_type": speaking.pk,
        "title": CLAIM["title"],
        "description": "",
        "occurred_on": "2026-10-01",
        "quantity": "1",
        "evidence_url": CLAIM["evidence_url"],
        "action": "submit",
    }
    assert client.post("/contributions/new/", form).status_code == 302

    again = client.post("/contributions/new/", form)

    first = Contribution.objects.get()
    assert again.status_code == 200
    assert f"You already claimed this: “{CLAIM['title']}” (#{first.pk}, submitted)" in again.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_the_same_claim_at_once_make_one(ma, speaking):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=10)
            _claim(ma, speaking)
            outcomes.append("saved")
        except services.ContributionError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "saved"]
    assert Contribution.objects.filter(member=ma).count() == 1


def test_the_verifier_sees_the_same_claim_made_before(client, verifier, ma, speaking):
    # Saved before the refusal existed (or by another path): both wait in the queue.
    first = ContributionFactory(member=ma, activity_type=speaking, state=Contribution.State.SUBMITTED, **CLAIM)
    second = ContributionFactory(member=ma, activity_type=speaking, state=Contribution.State.SUBMITTED, **CLAIM)
    other = ContributionFactory(
        member=ma, activity_type=speaking, state=Contribution.State.SUBMITTED, **(CLAIM | {"title": "Another talk"})
    )
    assert list(selectors.same_claims(contribution=second)) == [first]
    client.force_login(with_mfa(verifier))

    page = client.get(f"/admin/contributions/contribution/{second.pk}/decide/").content.decode()

    assert "The member made the same claim more than once" in page
    assert f"/admin/contributions/contribution/{first.pk}/change/" in page
    assert (
        "The member made the same claim more than once"
        not in client.get(f"/admin/contributions/contribution/{other.pk}/decide/").content.decode()
    )


# --- Decisions: the same claim's points count once ---------------------------------------------------
# Found by a second walk: a claim rejected, claimed again (allowed: the first no longer stands), then the
# first reopened and both verified: one blog post counted twice.


def _pair(member, activity_type, first_state, second_state) -> tuple[Contribution, Contribution]:
    first = ContributionFactory(member=member, activity_type=activity_type, state=first_state, **CLAIM)
    second = ContributionFactory(member=member, activity_type=activity_type, state=second_state, **CLAIM)
    return first, second


def test_a_claim_whose_same_claim_is_verified_cannot_be_verified(ma, speaking, verifier):
    first, second = _pair(ma, speaking, Contribution.State.VERIFIED, Contribution.State.SUBMITTED)

    with pytest.raises(services.ContributionError, match=f"#{first.pk} is the same claim and is verified"):
        services.contribution_decide(contribution_id=second.pk, verifier=verifier, decision=services.Decision.VERIFY)
    result = services.contributions_decide_bulk(
        contribution_ids=[second.pk], staff=verifier, decision=services.Decision.VERIFY
    )
    assert not result.done and f"#{first.pk}" in result.skipped[0][1]
    second.refresh_from_db()
    assert second.state == Contribution.State.SUBMITTED
    # Rejecting the duplicate is what is left to do, and it works.
    services.contribution_decide(
        contribution_id=second.pk, verifier=verifier, decision=services.Decision.REJECT, note=f"Same as #{first.pk}"
    )


def test_a_rejected_claim_is_not_reopened_or_corrected_to_verified_while_its_same_claim_stands(
    ma, speaking, program_admin
):
    first, second = _pair(ma, speaking, Contribution.State.REJECTED, Contribution.State.SUBMITTED)

    with pytest.raises(services.ContributionError, match=f"#{second.pk} is the same claim and still stands"):
        services.contribution_reopen(contribution_id=first.pk, staff=program_admin, reason="Rejected by mistake")
    Contribution.objects.filter(pk=second.pk).update(state=Contribution.State.VERIFIED)
    with pytest.raises(services.ContributionError, match=f"#{second.pk} is the same claim and is verified"):
        services.contribution_correct(
            contribution_id=first.pk,
            staff=program_admin,
            state=Contribution.State.VERIFIED,
            awarded_points=None,
            reason="Rejected by mistake",
        )
    first.refresh_from_db()
    assert first.state == Contribution.State.REJECTED


@pytest.mark.django_db(transaction=True)
def test_two_verifiers_verifying_the_two_halves_of_a_pair_at_once_count_it_once(ma, speaking, verifier, program_admin):
    first, second = _pair(ma, speaking, Contribution.State.SUBMITTED, Contribution.State.SUBMITTED)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def verify(contribution: Contribution, staff) -> None:
        try:
            barrier.wait(timeout=10)
            services.contribution_decide(
                contribution_id=contribution.pk, verifier=staff, decision=services.Decision.VERIFY
            )
            outcomes.append("verified")
        except services.ContributionError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=verify, args=(first, verifier)),
        threading.Thread(target=verify, args=(second, program_admin)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "verified"]
    assert Contribution.objects.filter(member=ma, state=Contribution.State.VERIFIED).count() == 1


def test_the_refusal_tells_the_member_what_to_do_with_the_claim_they_made(ma, speaking):
    draft = services.contribution_create(member=ma, activity_type=speaking, submit=False, **CLAIM)

    with pytest.raises(services.ContributionError) as refused:
        _claim(ma, speaking)
    assert f"(#{draft.pk}, draft)" in str(refused.value)
    assert "change that claim's quantity" in str(refused.value)  # a draft is edited

    Contribution.objects.filter(pk=draft.pk).update(state=Contribution.State.VERIFIED)
    with pytest.raises(services.ContributionError, match="another occasion needs its own date, title or link"):
        _claim(ma, speaking)
