"""What a new sign-up tells the member (the pure part of `signup_create`, no database)."""

from engagements.models import SignUp
from engagements.services.signups import signup_notice


def test_a_slot_says_the_team_follows_up():
    assert signup_notice(state=SignUp.State.CONFIRMED, title="Panel") == (
        "confirmed",
        "You have a slot: Panel",
        "The program team will follow up with the next steps.",
    )


def test_a_waitlist_place_says_a_freed_slot_is_offered_in_turn():
    event, title, body = signup_notice(state=SignUp.State.WAITLISTED, title="Panel")
    assert (event, title) == ("waitlisted", "You are on the waitlist: Panel")
    assert body.startswith("All slots are taken. If one frees up, we offer it to the next in line")
