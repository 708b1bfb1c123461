"""Every write of the engagements app: sign-ups, the waitlist and its offers, follow-up, suggestions.

Concurrency rule: every change of a sign-up's state happens inside a short transaction that
first locks its opportunity's row (`SELECT ... FOR NO KEY UPDATE`). That single lock serialises
sign-ups, withdrawals, offers and staff follow-up of one opportunity, so the count of sign-ups
holding a slot can never exceed the capacity, waitlist order is the order requests were served,
and a completion is recorded once even when two admin tabs press the button together. The
NO KEY variant does not block the FOR KEY SHARE lock that inserting a sign-up (a foreign key
to the opportunity) takes, so inserts of other transactions are never deadlocked by it.

The package's modules: `common` (the error, the lock, the save with its actor; `LOCK_TIMEOUT`),
`rules` (the refusals the pages share), `waitlist`, `signups`, `opportunities`, `suggestions`.
Callers import from `engagements.services`; a test that shortens the lock wait patches
`engagements.services.common.LOCK_TIMEOUT`.
"""

from engagements.services.common import BUSY_SIGNUP, EngagementError
from engagements.services.opportunities import (
    OPPORTUNITY_EDITABLE_FIELDS,
    opportunity_cancel,
    opportunity_capacity_problem,
    opportunity_create,
    opportunity_delete,
    opportunity_deletion_refusal,
    opportunity_fill_free_slots,
    opportunity_set_state,
    opportunity_update,
)
from engagements.services.rules import signup_engagement_date, signup_refusal, withdraw_refusal
from engagements.services.signups import (
    signup_complete,
    signup_create,
    signup_mark_no_show,
    signup_offer_accept,
    signup_offer_decline,
    signup_schedule,
    signup_withdraw,
    signup_withdraw_by_staff,
)
from engagements.services.suggestions import (
    suggestion_accept_as_activity_type,
    suggestion_accept_as_opportunity,
    suggestion_create,
    suggestion_decline,
)
from engagements.services.waitlist import offers_expire

__all__ = [
    "BUSY_SIGNUP",
    "OPPORTUNITY_EDITABLE_FIELDS",
    "EngagementError",
    "offers_expire",
    "opportunity_cancel",
    "opportunity_capacity_problem",
    "opportunity_create",
    "opportunity_delete",
    "opportunity_deletion_refusal",
    "opportunity_fill_free_slots",
    "opportunity_set_state",
    "opportunity_update",
    "signup_complete",
    "signup_create",
    "signup_engagement_date",
    "signup_mark_no_show",
    "signup_offer_accept",
    "signup_offer_decline",
    "signup_refusal",
    "signup_schedule",
    "signup_withdraw",
    "signup_withdraw_by_staff",
    "suggestion_accept_as_activity_type",
    "suggestion_accept_as_opportunity",
    "suggestion_create",
    "suggestion_decline",
    "withdraw_refusal",
]
