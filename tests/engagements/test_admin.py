from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from accounts.models import Notification
from contributions.models import ActivityType, Contribution
from engagements.models import Opportunity, SignUp, Suggestion
from tests.factories import (
    EngagementActivityTypeFactory,
    OpportunityFactory,
    SignUpFactory,
    SuggestionFactory,
)
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, program_admin):
    client.force_login(with_mfa(program_admin))
    return client


def _action(client, model: str, action: str, ids, **data):
    return client.post(
        f"/admin/engagements/{model}/", {"action": action, ACTION_CHECKBOX_NAME: [str(i) for i in ids], **data}
    )


def test_admin_pages_open(admin_client):
    signup = SignUpFactory()
    suggestion = SuggestionFactory()
    for url in [
        "/admin/engagements/opportunity/",
        f"/admin/engagements/opportunity/{signup.opportunity.pk}/change/",
        "/admin/engagements/opportunity/add/",
        "/admin/engagements/signup/",
        f"/admin/engagements/signup/{signup.pk}/change/",
        f"/admin/engagements/signup/{signup.pk}/history/",
        "/admin/engagements/suggestion/",
        f"/admin/engagements/suggestion/{suggestion.pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_schedule_action_asks_for_next_steps_then_schedules(admin_client):
    signup = SignUpFactory()
    form = _action(admin_client, "signup", "schedule", [signup.pk])
    assert form.status_code == 200 and b"Next steps" in form.content
    when = (timezone.now() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    _action(admin_client, "signup", "schedule", [signup.pk], apply="1", next_steps="Send slides.", scheduled_for=when)
    signup.refresh_from_db()
    assert signup.state == SignUp.State.SCHEDULED and signup.next_steps == "Send slides."
    assert Notification.objects.filter(user=signup.member, kind="engagement.scheduled").exists()


def test_complete_action_twice_credits_once(admin_client):
    signup = SignUpFactory(opportunity__points=45, opportunity__starts_at=timezone.now() - timedelta(hours=2))
    _action(admin_client, "signup", "complete", [signup.pk])
    _action(admin_client, "signup", "complete", [signup.pk])
    assert Contribution.objects.get(member=signup.member).awarded_points == 45


def test_refused_action_shows_why(admin_client):
    signup = SignUpFactory(state=SignUp.State.WITHDRAWN)
    response = _action(admin_client, "signup", "complete", [signup.pk])
    assert response.status_code == 302
    page = admin_client.get("/admin/engagements/signup/").content.decode()
    assert "Only a confirmed or scheduled sign-up can be completed." in page


def test_cancel_action_notifies_every_live_signup(admin_client):
    opportunity = OpportunityFactory(capacity=1)
    SignUpFactory(opportunity=opportunity)
    SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)
    SignUpFactory(opportunity=opportunity, state=SignUp.State.WITHDRAWN)
    _action(admin_client, "opportunity", "cancel", [opportunity.pk], apply="1", reason="Venue lost.")
    opportunity.refresh_from_db()
    assert opportunity.state == Opportunity.State.CANCELLED
    assert Notification.objects.filter(kind="engagement.cancelled", body="Venue lost.").count() == 2


def test_raising_capacity_in_the_admin_offers_the_slot(admin_client):
    opportunity = OpportunityFactory(capacity=1)
    SignUpFactory(opportunity=opportunity)
    waiting = SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)
    url = f"/admin/engagements/opportunity/{opportunity.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "capacity": "2",
            "activity_type": opportunity.activity_type_id,
            "starts_at_0": opportunity.starts_at.strftime("%Y-%m-%d"),
            "starts_at_1": opportunity.starts_at.strftime("%H:%M:%S"),
            "signups-TOTAL_FORMS": "2",
            "signups-INITIAL_FORMS": "2",
            "signups-0-id": str(opportunity.signups.order_by("pk")[0].pk),
            "signups-0-opportunity": str(opportunity.pk),
            "signups-1-id": str(waiting.pk),
            "signups-1-opportunity": str(opportunity.pk),
        }
    )
    data.pop("starts_at", None)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    waiting.refresh_from_db()
    assert waiting.state == SignUp.State.OFFERED


def test_capacity_below_the_slots_held_is_refused_in_the_admin_form():
    from engagements.admin import OpportunityAdminForm

    opportunity = OpportunityFactory(capacity=3)
    SignUpFactory.create_batch(2, opportunity=opportunity)
    form = OpportunityAdminForm(instance=opportunity, data={"capacity": 1})
    form.is_valid()
    assert "2 slots are already held" in str(form.errors["capacity"])


def test_suggestion_accept_and_decline_actions(admin_client):
    as_type, as_opportunity, declined = SuggestionFactory.create_batch(3)
    year = EngagementActivityTypeFactory().program_year
    credited = EngagementActivityTypeFactory(program_year=year)
    _action(
        admin_client,
        "suggestion",
        "accept_as_activity_type",
        [as_type.pk],
        apply="1",
        program_year=year.pk,
        code="member-clinic",
        category="talent",
        points="20",
        tracking="manual",
    )
    _action(
        admin_client,
        "suggestion",
        "accept_as_opportunity",
        [as_opportunity.pk],
        apply="1",
        activity_type=credited.pk,
        slug="from-a-suggestion",
        points="35",
    )
    form = _action(admin_client, "suggestion", "decline", [declined.pk])
    assert b"Reason" in form.content
    _action(admin_client, "suggestion", "decline", [declined.pk], apply="1", reason="Covered by blog posts.")
    assert ActivityType.objects.get(code="member-clinic").points == 20
    assert Opportunity.objects.get(slug="from-a-suggestion").points == 35
    states = dict(Suggestion.objects.values_list("pk", "state"))
    assert states == {as_type.pk: "accepted", as_opportunity.pk: "accepted", declined.pk: "declined"}
