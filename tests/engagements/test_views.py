from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from django.urls import reverse
from django.utils import timezone

from engagements import services
from engagements.models import Opportunity, SignUp, Suggestion
from tests.factories import (
    EngagementActivityTypeFactory,
    OpportunityFactory,
    SignUpFactory,
    StaffFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    client.get("/notifications/")  # the session's first request records it; pages measure the steady state
    return client


def _content(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("count", [5, 100])
def test_list_query_count_does_not_grow_with_opportunities(member_client, member, django_assert_max_num_queries, count):
    activity_type = EngagementActivityTypeFactory()
    opportunities = OpportunityFactory.create_batch(count, activity_type=activity_type, capacity=3)
    for opportunity in opportunities[:3]:
        SignUpFactory(opportunity=opportunity, member=member)
        SignUpFactory(opportunity=opportunity)
    # 4: session, user, the page with its count (one statement), the unread notifications' badge.
    with django_assert_max_num_queries(4):
        response = member_client.get("/engagements/")
    assert response.status_code == 200
    assert "1 of 3 left" in _content(response)


@pytest.mark.parametrize("count", [5, 100])
def test_detail_query_count_does_not_grow_with_signups(member_client, member, django_assert_max_num_queries, count):
    opportunity = OpportunityFactory(capacity=2)
    SignUpFactory.create_batch(2, opportunity=opportunity)
    SignUpFactory.create_batch(count, opportunity=opportunity, state=SignUp.State.WAITLISTED)
    SignUpFactory(opportunity=opportunity, member=member, state=SignUp.State.WAITLISTED)
    # 6: one more when the engagement falls in another program year than its planned type's (the
    # factory's date is 30 days ahead): the credit names the catalogue it counts in.
    with django_assert_max_num_queries(6):
        response = member_client.get(opportunity.get_absolute_url())
    assert f"You are number {count + 1} in line." in _content(response)


def test_list_filters_by_category_open_slots_and_date(member_client):
    full = OpportunityFactory(title="Full talk", category="speaking", capacity=1)
    SignUpFactory(opportunity=full)
    OpportunityFactory(title="Blog slot", category="blog", starts_at=timezone.now() + timedelta(days=90))
    OpportunityFactory(title="Always on", category="blog", starts_at=None, capacity=None)
    OpportunityFactory(title="Draft thing", state=Opportunity.State.DRAFT)

    page = _content(member_client.get("/engagements/"))
    assert "Full talk" in page and "Blog slot" in page and "Draft thing" not in page
    assert "Full talk" not in _content(member_client.get("/engagements/?category=blog"))
    assert "Full talk" not in _content(member_client.get("/engagements/?open_slots=on"))
    soon = (timezone.now() + timedelta(days=60)).date().isoformat()
    dated = _content(member_client.get(f"/engagements/?date_to={soon}"))
    assert "Blog slot" not in dated and "Full talk" in dated and "Always on" in dated
    bad = member_client.get("/engagements/?date_from=not-a-date")
    assert bad.status_code == 200


def test_signup_post_confirms_and_shows_slots_left(member_client):
    opportunity = OpportunityFactory(capacity=3)
    response = member_client.post(reverse("engagements:signup_create", args=[opportunity.slug]), follow=True)
    page = _content(response)
    assert "You&#x27;re in" in page or "You're in" in page
    assert "2 of 3 slots left" in page
    assert "Withdraw" in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"signup_closes_at": timezone.now() - timedelta(days=1)}, "Sign-ups closed on"),
        ({"state": Opportunity.State.CANCELLED, "cancellation_reason": "Venue closed."}, "was cancelled"),
        ({"state": Opportunity.State.CLOSED}, "Sign-ups for this opportunity are closed."),
    ],
)
def test_closed_or_cancelled_opportunity_shows_a_message_never_an_error(member_client, changes, message):
    opportunity = OpportunityFactory(**changes)
    page = member_client.get(opportunity.get_absolute_url())
    assert page.status_code == 200 and message in _content(page)
    assert 'action="/engagements/' + opportunity.slug + '/sign-up/"' not in _content(page)
    response = member_client.post(reverse("engagements:signup_create", args=[opportunity.slug]), follow=True)
    assert response.status_code == 200 and message in _content(response)
    assert not SignUp.objects.exists()


def test_closed_sign_ups_message_writes_the_date_as_the_rest_of_the_site(member_client):
    """The walk found "Sign-ups closed on 05 Dec 2026" beside "until 5 Dec 2026, 15:00" on the same page."""
    opportunity = OpportunityFactory(
        signup_opens_at=datetime(2025, 2, 1, 9, 0, tzinfo=UTC), signup_closes_at=datetime(2025, 3, 5, 15, 0, tzinfo=UTC)
    )
    page = _content(member_client.get(opportunity.get_absolute_url()))
    assert "Sign-ups closed on 5 Mar 2025, 15:00 UTC." in page
    assert "05 Mar" not in page


def test_full_opportunity_without_waitlist_shows_a_message(member_client):
    opportunity = OpportunityFactory(capacity=1, waitlist_enabled=False)
    SignUpFactory(opportunity=opportunity)
    page = _content(member_client.get(opportunity.get_absolute_url()))
    assert "keeps no waitlist" in page
    response = member_client.post(reverse("engagements:signup_create", args=[opportunity.slug]), follow=True)
    assert response.status_code == 200 and "keeps no waitlist" in _content(response)


def test_the_htmx_panel_colours_its_message_by_level_and_the_ended_sign_up_by_state(member_client, member):
    opportunity = OpportunityFactory(capacity=2)
    signup = SignUpFactory(opportunity=opportunity, member=member)
    url = reverse("engagements:signup_withdraw", args=[signup.pk])
    page = _content(member_client.post(url, HTTP_HX_REQUEST="true"))
    assert 'class="message message-success"' in page
    assert '<span class="pill pill-muted">Withdrawn</span>' in page
    page = _content(member_client.post(url, HTTP_HX_REQUEST="true"))  # withdrawn already: refused
    assert 'class="message message-error"' in page


def test_draft_opportunity_is_not_found(member_client):
    opportunity = OpportunityFactory(state=Opportunity.State.DRAFT)
    assert member_client.get(opportunity.get_absolute_url()).status_code == 404


def test_withdraw_with_htmx_returns_the_refreshed_panel(member_client, member):
    opportunity = OpportunityFactory(capacity=2)
    signup = SignUpFactory(opportunity=opportunity, member=member)
    response = member_client.post(reverse("engagements:signup_withdraw", args=[signup.pk]), HTTP_HX_REQUEST="true")
    page = _content(response)
    assert response.status_code == 200
    assert 'id="signup-panel"' in page and "<html" not in page
    assert "You have withdrawn your sign-up." in page and "2 of 2 slots left" in page
    signup.refresh_from_db()
    assert signup.state == SignUp.State.WITHDRAWN


def test_withdraw_without_javascript_redirects_with_a_message(member_client, member):
    signup = SignUpFactory(member=member)
    response = member_client.post(reverse("engagements:signup_withdraw", args=[signup.pk]), follow=True)
    assert "You have withdrawn your sign-up." in _content(response)


def test_withdraw_after_the_date_tells_the_member_to_contact_staff(member_client, member):
    signup = SignUpFactory(member=member, opportunity__starts_at=timezone.now() - timedelta(hours=1))
    page = _content(member_client.get(signup.opportunity.get_absolute_url()))
    assert "please contact the program team" in page and "Withdraw</button>" not in page
    response = member_client.post(reverse("engagements:signup_withdraw", args=[signup.pk]), follow=True)
    assert response.status_code == 200 and "contact the program team" in _content(response)
    signup.refresh_from_db()
    assert signup.state == SignUp.State.CONFIRMED


@pytest.mark.parametrize("name", ["signup_withdraw", "signup_accept", "signup_decline"])
def test_actions_on_another_members_signup_are_not_found(member_client, other_member, name):
    signup = SignUpFactory(member=other_member, state=SignUp.State.OFFERED, offer_expires_at=timezone.now())
    assert member_client.post(reverse(f"engagements:{name}", args=[signup.pk])).status_code == 404
    signup.refresh_from_db()
    assert signup.state == SignUp.State.OFFERED


def test_accept_offer_from_the_page(member_client, member):
    opportunity = OpportunityFactory(capacity=1)
    signup = SignUpFactory(
        opportunity=opportunity,
        member=member,
        state=SignUp.State.OFFERED,
        offer_expires_at=timezone.now() + timedelta(hours=10),
    )
    page = _content(member_client.get(opportunity.get_absolute_url()))
    assert "Accept the slot" in page
    member_client.post(reverse("engagements:signup_accept", args=[signup.pk]))
    signup.refresh_from_db()
    assert signup.state == SignUp.State.CONFIRMED


def test_calendar_file_parses_and_carries_the_scheduled_date(member_client, member):
    signup = SignUpFactory(member=member)
    when = (timezone.now() + timedelta(days=12)).replace(microsecond=0, second=0)
    services.signup_schedule(signup_id=signup.pk, actor=StaffFactory(), next_steps="Bring slides.", scheduled_for=when)
    response = member_client.get(reverse("engagements:signup_calendar", args=[signup.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    (event,) = calendar.walk("VEVENT")
    assert event["UID"] == f"signup-{signup.pk}@127.0.0.1:8000"
    assert event["DTSTAMP"].dt.tzinfo is not None
    assert event["DTSTART"].dt == when
    assert event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert "Bring slides." in str(event["DESCRIPTION"])


def test_calendar_of_another_member_or_without_a_date_is_not_found(member_client, member, other_member):
    theirs = SignUpFactory(member=other_member)
    assert member_client.get(reverse("engagements:signup_calendar", args=[theirs.pk])).status_code == 404
    ongoing = SignUpFactory(member=member, opportunity__starts_at=None)
    assert member_client.get(reverse("engagements:signup_calendar", args=[ongoing.pk])).status_code == 404


def test_my_signups_page_lists_states_and_positions(member_client, member, django_assert_max_num_queries):
    opportunity = OpportunityFactory(capacity=1)
    SignUpFactory(opportunity=opportunity)
    SignUpFactory(opportunity=opportunity, state=SignUp.State.WAITLISTED)
    SignUpFactory(opportunity=opportunity, member=member, state=SignUp.State.WAITLISTED)
    SignUpFactory(member=member, state=SignUp.State.COMPLETED)
    with django_assert_max_num_queries(5):
        page = _content(member_client.get(reverse("engagements:signup_list")))
    assert "Number 2 in line" in page and "Completed" in page


def test_member_suggests_and_sees_the_decision(member_client, member):
    response = member_client.post(
        reverse("engagements:suggestion_list"),
        {
            "title": "Host a model-building clinic",
            "description": "Two hours of live review.",
            "proposed_category": "talent",
            "why_it_matters": "Helps new modelers.",
        },
        follow=True,
    )
    assert "Thank you!" in _content(response) and "Under review" in _content(response)
    suggestion = Suggestion.objects.get(member=member)
    services.suggestion_decline(suggestion_id=suggestion.pk, actor=StaffFactory(), reason="Already in the catalogue.")
    page = _content(member_client.get(reverse("engagements:suggestion_list")))
    assert "Declined." in page and "Already in the catalogue." in page


def test_suggestion_form_errors_are_shown(member_client):
    response = member_client.post(reverse("engagements:suggestion_list"), {"title": ""})
    assert response.status_code == 200
    assert "This field is required." in _content(response)


def test_staff_accept_a_suggestion_as_an_activity_type_or_an_opportunity():
    staff = StaffFactory()
    first, second = SuggestionFactory.create_batch(2)
    year = EngagementActivityTypeFactory().program_year
    activity_type = services.suggestion_accept_as_activity_type(
        suggestion_id=first.pk, actor=staff, program_year=year, code="clinic", points=15, category="talent"
    )
    assert activity_type.points == 15 and activity_type.name == first.title
    first.refresh_from_db()
    assert first.state == Suggestion.State.ACCEPTED and first.points == 15 and first.decided_by == staff
    with pytest.raises(services.EngagementError, match="already decided"):
        services.suggestion_decline(suggestion_id=first.pk, actor=staff, reason="no")

    credited = EngagementActivityTypeFactory(program_year=year)
    opportunity = services.suggestion_accept_as_opportunity(
        suggestion_id=second.pk, actor=staff, activity_type=credited, points=70, slug="member-clinic"
    )
    assert opportunity.state == Opportunity.State.DRAFT and opportunity.credited_points == 70
    assert second.member.notifications.filter(kind="engagement.suggestion_decided").exists()


def test_decline_needs_a_reason():
    suggestion = SuggestionFactory()
    with pytest.raises(services.EngagementError):
        services.suggestion_decline(suggestion_id=suggestion.pk, actor=StaffFactory(), reason="  ")


def test_dashboard_card_lists_upcoming_engagements(member):
    from django.template.loader import render_to_string

    from engagements.selectors import upcoming_for_member

    assert "Browse opportunities" in render_to_string(
        "engagements/_dashboard_card.html", {"upcoming": upcoming_for_member(user=member)}
    )
    SignUpFactory(member=member, opportunity__title="Speak at the summit")
    SignUpFactory(member=member, state=SignUp.State.WITHDRAWN, opportunity__title="Old thing")
    html = render_to_string("engagements/_dashboard_card.html", {"upcoming": upcoming_for_member(user=member)})
    assert "Upcoming engagements" in html and "Speak at the summit" in html and "Old thing" not in html


def test_reserved_words_cannot_be_slugs():
    from django.core.exceptions import ValidationError

    opportunity = OpportunityFactory.build(slug="suggestions", activity_type=EngagementActivityTypeFactory())
    with pytest.raises(ValidationError):
        opportunity.full_clean()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert "/accounts/login/" in client.get("/engagements/")["Location"]
    assert UserFactory  # factories import check


def test_my_signups_page_says_why_an_opportunity_was_cancelled(member_client, member, program_admin):
    """The walk: "Opportunity cancelled" with no reason on /engagements/mine/, though the program team gave one
    (the notification said it, the list did not); a confirmed sign-up's Details cell was empty."""
    from engagements import services

    cancelled = SignUpFactory(member=member)
    services.opportunity_cancel(
        opportunity_id=cancelled.opportunity_id, actor=program_admin, reason="The venue closed."
    )
    SignUpFactory(member=member, state=SignUp.State.CONFIRMED)
    page = _content(member_client.get(reverse("engagements:signup_list")))
    assert "Opportunity cancelled: The venue closed." in page
    assert "Your slot is held." in page
