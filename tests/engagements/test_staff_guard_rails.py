"""Guard rails on staff actions (issue 11, finding 7).

Staff withdrawal and cancellation ask for confirmation and a reason, and notify each member
concerned by message and email; a completion before the engagement date is refused; the
credited activity type is the one of the engagement date's program year, and staff are told.
"""

from datetime import date, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from contributions.models import Contribution
from engagements import services
from engagements.models import Opportunity, SignUp
from tests.factories import (
    EngagementActivityTypeFactory,
    OpportunityFactory,
    ProgramYearFactory,
    SignUpFactory,
)
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, verifier):
    client.force_login(with_mfa(verifier))
    return client


@pytest.fixture
def admin_client(client, program_admin):
    client.force_login(with_mfa(program_admin))
    return client


def _action(client, model: str, action: str, ids, **data):
    return client.post(
        f"/admin/engagements/{model}/", {"action": action, ACTION_CHECKBOX_NAME: [str(i) for i in ids], **data}
    )


# --- Staff withdrawal ---------------------------------------------------------------------------


def test_staff_withdrawal_asks_for_confirmation_and_a_reason_before_anything_happens(staff_client):
    opportunity = OpportunityFactory(capacity=1)
    held = SignUpFactory(opportunity=opportunity)
    SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)

    page = _action(staff_client, "signup", "withdraw", [held.pk])
    assert page.status_code == 200
    text = page.content.decode()
    assert "Withdraw sign-ups" in text and "Reason" in text
    assert "1 member will be told by message and email" in text
    assert "1 freed slot will be offered to the next in line" in text
    held.refresh_from_db()
    assert held.state == SignUp.State.CONFIRMED

    empty = _action(staff_client, "signup", "withdraw", [held.pk], apply="1", reason="   ")
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    held.refresh_from_db()
    assert held.state == SignUp.State.CONFIRMED
    assert not Notification.objects.exists()


def test_staff_withdrawal_stores_the_reason_tells_the_member_and_offers_the_slot(
    staff_client, verifier, django_capture_on_commit_callbacks
):
    opportunity = OpportunityFactory(capacity=1, title="Keynote at the user group")
    held = SignUpFactory(opportunity=opportunity)
    waiting = SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)

    with django_capture_on_commit_callbacks(execute=True):
        response = _action(
            staff_client, "signup", "withdraw", [held.pk], apply="1", reason="You asked us by phone to step down."
        )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.state == SignUp.State.WITHDRAWN and held.end_reason == SignUp.EndReason.STAFF
    assert held.end_note == "You asked us by phone to step down."
    assert held.history.latest().history_user == verifier
    told = Notification.objects.get(user=held.member, kind="engagement.withdrawn")
    assert "You asked us by phone to step down." in told.body
    emails = [m for m in mail.outbox if held.member.email in m.to]
    assert len(emails) == 1 and "You asked us by phone to step down." in emails[0].body
    waiting.refresh_from_db()
    assert waiting.state == SignUp.State.OFFERED
    assert Notification.objects.filter(user=waiting.member, kind="engagement.offered").count() == 1
    staff_client.force_login(held.member)  # the member's own page says why
    assert (
        "You asked us by phone to step down." in staff_client.get(reverse("engagements:signup_list")).content.decode()
    )


def test_the_withdrawal_service_refuses_without_a_reason(verifier):
    signup = SignUpFactory()
    with pytest.raises(services.EngagementError, match="reason"):
        services.signup_withdraw_by_staff(signup_id=signup.pk, actor=verifier, reason=" ")
    signup.refresh_from_db()
    assert signup.state == SignUp.State.CONFIRMED


def test_a_staff_withdrawal_without_a_note_cannot_be_stored(verifier):
    from django.db import IntegrityError, transaction

    signup = SignUpFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        SignUp.objects.filter(pk=signup.pk).update(
            state=SignUp.State.WITHDRAWN, end_reason=SignUp.EndReason.STAFF, end_note="", ended_at=timezone.now()
        )


# --- Cancelling an opportunity ------------------------------------------------------------------


def test_cancelling_asks_for_confirmation_and_a_reason_and_says_how_many_are_told(admin_client):
    opportunity = OpportunityFactory(capacity=1)
    SignUpFactory(opportunity=opportunity)
    SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)
    SignUpFactory(opportunity=opportunity, state=SignUp.State.WITHDRAWN)

    page = _action(admin_client, "opportunity", "cancel", [opportunity.pk])
    assert page.status_code == 200
    assert "2 members will be told by message and email" in page.content.decode()

    empty = _action(admin_client, "opportunity", "cancel", [opportunity.pk], apply="1", reason="")
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.state == Opportunity.State.PUBLISHED


def test_cancelling_tells_each_member_by_message_and_email_with_the_reason(
    admin_client, django_capture_on_commit_callbacks
):
    opportunity = OpportunityFactory(capacity=1)
    members = [SignUpFactory(opportunity=opportunity).member]
    members.append(SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED).member)
    with django_capture_on_commit_callbacks(execute=True):
        _action(admin_client, "opportunity", "cancel", [opportunity.pk], apply="1", reason="The venue closed.")
    opportunity.refresh_from_db()
    assert opportunity.state == Opportunity.State.CANCELLED and opportunity.cancellation_reason == "The venue closed."
    for member in members:
        assert Notification.objects.get(user=member, kind="engagement.cancelled").body == "The venue closed."
        assert [m for m in mail.outbox if member.email in m.to]


def test_cancelling_says_how_many_members_were_told_in_good_english(admin_client):
    """The walk's reading: "Cancelled; 1 members were notified." One member is one member."""
    opportunity = OpportunityFactory(capacity=1)
    SignUpFactory(opportunity=opportunity)
    _action(admin_client, "opportunity", "cancel", [opportunity.pk], apply="1", reason="The venue closed.")
    said = [str(message) for message in get_messages(admin_client.get("/admin/engagements/opportunity/").wsgi_request)]
    assert "Cancelled; 1 member was notified." in said


def test_the_cancel_service_refuses_without_a_reason(program_admin):
    opportunity = OpportunityFactory()
    with pytest.raises(services.EngagementError, match="reason"):
        services.opportunity_cancel(opportunity_id=opportunity.pk, actor=program_admin, reason="")
    opportunity.refresh_from_db()
    assert opportunity.state == Opportunity.State.PUBLISHED


# --- Completing ---------------------------------------------------------------------------------


def test_completing_before_the_engagement_date_is_refused_with_the_date(staff_client, verifier):
    signup = SignUpFactory()  # the opportunity starts in 30 days
    with pytest.raises(services.EngagementError, match="can be marked completed from"):
        services.signup_complete(signup_id=signup.pk, actor=verifier)
    _action(staff_client, "signup", "complete", [signup.pk])
    page = staff_client.get("/admin/engagements/signup/").content.decode()
    assert "can be marked completed from" in page
    assert not Contribution.objects.exists()
    signup.refresh_from_db()
    assert signup.state == SignUp.State.CONFIRMED


def test_completing_credits_the_type_of_the_engagement_years_catalogue_and_says_so(staff_client, verifier):
    ProgramYearFactory(year=2022)
    planned_type = EngagementActivityTypeFactory(program_year__year=2022, code="keynote", name="Keynote")
    credited_type = EngagementActivityTypeFactory(program_year__year=2026, code="keynote", name="Keynote")
    held_on = timezone.make_aware(datetime(2026, 3, 10, 15, 0))
    opportunity = OpportunityFactory(activity_type=planned_type, starts_at=held_on)
    signup = SignUpFactory(opportunity=opportunity)

    change_page = staff_client.get(f"/admin/engagements/opportunity/{opportunity.pk}/change/").content.decode()
    assert "credits “Keynote” of the 2026 catalogue" in change_page

    _action(staff_client, "signup", "complete", [signup.pk])
    contribution = Contribution.objects.get(member=signup.member)
    assert contribution.activity_type == credited_type
    assert contribution.occurred_on == date(2026, 3, 10)
    page = staff_client.get("/admin/engagements/signup/").content.decode()
    assert "credited as “Keynote” of the 2026 catalogue" in page
    assert "2022" in page


def test_completing_after_the_date_credits_once(verifier):
    signup = SignUpFactory(opportunity__starts_at=timezone.now() - timedelta(days=1))
    services.signup_complete(signup_id=signup.pk, actor=verifier)
    services.signup_complete(signup_id=signup.pk, actor=verifier)
    assert Contribution.objects.filter(member=signup.member).count() == 1


def test_saving_an_opportunity_held_after_its_types_year_warns_when_that_year_has_no_such_type(admin_client):
    """The walk: a February 2027 panel credited under 2026's "Public speaking engagement" (2027's catalogue
    has no such type) said only "Completing it credits … of the 2026 catalogue", with no warning on save;
    the member's page said "2027 catalogue has no such activity yet". Staff are told the same, as a warning."""
    from tests.admin_forms import admin_form_data

    planned_type = EngagementActivityTypeFactory(program_year__year=2022, code="keynote", name="Keynote")
    ProgramYearFactory(year=2026)
    opportunity = OpportunityFactory(activity_type=planned_type, starts_at=timezone.make_aware(datetime(2026, 3, 10)))
    url = f"/admin/engagements/opportunity/{opportunity.pk}/change/"
    response = admin_client.post(url, admin_form_data(admin_client, url, summary="Updated."), follow=True)
    said = {str(m): m.level_tag for m in response.context["messages"]}
    note = (
        "Completing it credits “Keynote” of the 2022 catalogue: the engagement falls in 2026, "
        "whose catalogue has no such activity yet."
    )
    assert said.get(note) == "warning", said


def test_saving_an_opportunity_whose_type_is_of_another_year_warns_staff(admin_client):
    from tests.admin_forms import admin_form_data

    planned_type = EngagementActivityTypeFactory(program_year__year=2022, code="keynote", name="Keynote")
    EngagementActivityTypeFactory(program_year__year=2026, code="keynote", name="Keynote")
    opportunity = OpportunityFactory(activity_type=planned_type, starts_at=timezone.make_aware(datetime(2026, 3, 10)))
    url = f"/admin/engagements/opportunity/{opportunity.pk}/change/"
    response = admin_client.post(url, admin_form_data(admin_client, url, summary="Updated."), follow=True)
    text = response.content.decode()
    assert "Completing it credits “Keynote” of the 2026 catalogue" in text
    assert [m.level_tag for m in response.context["messages"] if "2026 catalogue" in str(m)] == ["warning"]


def _said(client) -> list[str]:
    return [str(message) for message in get_messages(client.get("/admin/engagements/opportunity/").wsgi_request)]


def test_the_opportunity_actions_say_what_they_did_with_a_noun_in_good_english(admin_client):
    """The walk's reading: "1 published.", "1 closed.": a number with no noun, the plural never used."""
    one = OpportunityFactory(state=Opportunity.State.DRAFT)
    _action(admin_client, "opportunity", "publish", [one.pk])
    assert "1 opportunity published." in _said(admin_client)
    two = [OpportunityFactory(), OpportunityFactory()]
    _action(admin_client, "opportunity", "close", [o.pk for o in two])
    assert "2 opportunities closed." in _said(admin_client)


def test_the_sign_up_actions_say_what_they_did_with_a_noun_in_good_english(staff_client):
    held = SignUpFactory(opportunity=OpportunityFactory(capacity=2))
    _action(staff_client, "signup", "withdraw", [held.pk], apply="1", reason="Double booked.")
    said = [str(m) for m in get_messages(staff_client.get("/admin/engagements/signup/").wsgi_request)]
    assert "1 sign-up withdrawn; the member was told why." in said
