from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from engagements.models import SignUp
from tests.factories import EngagementActivityTypeFactory, OpportunityFactory, SignUpFactory, UserFactory
from tests.helpers import screenshot, sign_in_fast

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


@pytest.fixture
def catalogue():
    activity_type = EngagementActivityTypeFactory(name="Community blog post", points=40)
    open_one = OpportunityFactory(
        title="Community blog: the winter series",
        slug="winter-series",
        activity_type=activity_type,
        capacity=5,
        summary="Write one post of the winter series on the Community blog.",
    )
    full = OpportunityFactory(
        title="Speaker slots at the regional user group",
        slug="speaker-slots",
        category="speaking",
        activity_type=activity_type,
        points=80,
        capacity=2,
        location="London, Anaplan office",
        summary="A 20-minute talk in front of 150 customers.",
    )
    SignUpFactory.create_batch(2, opportunity=full)
    SignUpFactory.create_batch(3, opportunity=full, state=SignUp.State.WAITLISTED)
    closed = OpportunityFactory(
        title="Train-the-trainer: Level 1",
        slug="train-the-trainer",
        category="training",
        activity_type=activity_type,
        signup_opens_at=timezone.now() - timedelta(days=30),
        signup_closes_at=timezone.now() - timedelta(days=1),
        summary="Co-deliver the Level 1 course to a partner cohort.",
    )
    OpportunityFactory(
        title="Mentor an emerging modeler",
        slug="mentoring",
        category="mentoring",
        activity_type=activity_type,
        starts_at=None,
        capacity=None,
        summary="Meet a new modeler monthly and review their work.",
    )
    return {"open": open_one, "full": full, "closed": closed}


def test_member_signs_up_sees_slots_drop_and_withdraws(page, live_server, catalogue):
    member = UserFactory(email="ava.browser@example.com", first_name="Ava")
    sign_in_fast(page, live_server, member)
    page.goto("/engagements/")
    assert page.get_by_role("heading", name="Engagement opportunities").is_visible()
    assert page.get_by_text("5 of 5 left").is_visible()
    assert page.get_by_text("Sign-ups closed").is_visible()
    screenshot(page, "engagements-list")

    page.get_by_role("link", name="Community blog: the winter series").click()
    expect(page.get_by_text("5 of 5 slots left")).to_be_visible()
    screenshot(page, "engagements-detail-open")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text("You're in: a slot is yours.")).to_be_visible()
    expect(page.get_by_text("4 of 5 slots left")).to_be_visible()
    screenshot(page, "engagements-detail-confirmed")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Withdraw").click()
    page.get_by_text("You have withdrawn your sign-up.").wait_for()
    expect(page.get_by_text("5 of 5 slots left")).to_be_visible()
    expect(page.get_by_role("button", name="Sign up")).to_be_visible()
    assert SignUp.objects.get(member=member).state == SignUp.State.WITHDRAWN


def test_full_opportunity_offers_the_waitlist_with_the_position(page, live_server, catalogue):
    member = UserFactory(email="ben.browser@example.com", first_name="Ben")
    sign_in_fast(page, live_server, member)
    page.goto("/engagements/speaker-slots/")
    assert page.get_by_text("All slots are taken").first.is_visible()
    screenshot(page, "engagements-detail-full")
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_text("You are number 4 in line.")).to_be_visible()
    screenshot(page, "engagements-detail-waitlisted")


BADGE_AND_CARD_CONTENT_BOX = """badge => {
    const card = badge.closest(".opportunity-card"), style = getComputedStyle(card);
    const outer = card.getBoundingClientRect(), inner = badge.getBoundingClientRect();
    const px = name => parseFloat(style.getPropertyValue(name));
    return {
        badge: [inner.left, inner.right],
        content: [
            outer.left + px("border-left-width") + px("padding-left"),
            outer.right - px("border-right-width") - px("padding-right"),
        ],
    };
}"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_waitlist_open_badge_sits_inside_its_cards_padding(page, live_server, catalogue, width):
    """Walked at 1280 px: "Full — waitlist open" ran into the card's right edge (a pill that does not
    wrap, in a half-width column of the card's facts)."""
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_fast(page, live_server, UserFactory())
    page.goto("/engagements/")
    badge = page.get_by_text("Full — waitlist open")
    box = badge.evaluate(BADGE_AND_CARD_CONTENT_BOX)
    screenshot(page, f"engagements-list-waitlist-badge-{width}")
    assert box["content"][0] <= box["badge"][0] and box["badge"][1] <= box["content"][1], box


def test_closed_window_shows_a_message(page, live_server, catalogue):
    sign_in_fast(page, live_server, UserFactory())
    page.goto("/engagements/train-the-trainer/")
    assert page.get_by_text("Sign-ups closed on").is_visible()
    assert page.get_by_role("button", name="Sign up").count() == 0
    screenshot(page, "engagements-detail-closed")


def test_phone_layout_of_list_and_detail(phone_page, live_server, catalogue):
    sign_in_fast(phone_page, live_server, UserFactory())
    phone_page.goto("/engagements/")
    screenshot(phone_page, "engagements-list-phone")
    phone_page.goto("/engagements/speaker-slots/")
    screenshot(phone_page, "engagements-detail-phone")
    phone_page.goto("/engagements/suggestions/")
    screenshot(phone_page, "engagements-suggestions-phone")
