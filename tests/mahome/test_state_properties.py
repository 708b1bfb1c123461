"""The state properties the templates ask (issue 15, finding 7) are true for their state and no other."""

import pytest

from community_levels.models import BossApplication
from contributions.models import Contribution
from engagements.models import Opportunity, SignUp, Suggestion

CASES = [
    (
        Contribution,
        {
            "is_draft": {"draft"},
            "is_submitted": {"submitted"},
            "is_needs_info": {"needs_info"},
            "is_verified": {"verified"},
            "is_rejected": {"rejected"},
            "is_pending": {"submitted", "needs_info"},
            "is_decided": {"verified", "rejected"},
        },
    ),
    (
        SignUp,
        {
            "is_confirmed": {"confirmed"},
            "is_waitlisted": {"waitlisted"},
            "is_offered": {"offered"},
            "is_scheduled": {"scheduled"},
            "is_completed": {"completed"},
            "is_live": {"confirmed", "waitlisted", "offered", "scheduled"},
        },
    ),
    (Opportunity, {"is_draft": {"draft"}, "is_closed": {"closed"}, "is_cancelled": {"cancelled"}}),
    (Suggestion, {"is_pending": {"pending"}, "is_accepted": {"accepted"}}),
    (BossApplication, {"is_accepted": {"accepted"}, "is_declined": {"declined"}}),
]


@pytest.mark.parametrize(("model", "properties"), CASES, ids=[model.__name__ for model, _ in CASES])
def test_each_state_property_holds_for_its_states_only(model, properties):
    for state in model.State.values:
        item = model(state=state)
        assert {name for name in properties if getattr(item, name)} == {
            name for name, states in properties.items() if state in states
        }, state
