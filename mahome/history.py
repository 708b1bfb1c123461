"""What simple-history reads from a model instance when it writes the history row of a save.

A service that saves a model with `history = HistoricalRecords()` sets `_history_user` (who made the
change) and, when there is one, `_change_reason` on the instance first. simple-history ships no types,
so the models with history list `HistoryAttribution` among their bases to declare the two attributes.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.functional import Promise


class HistoryAttribution:
    """Declares the attributes simple-history reads on save; it adds nothing at run time."""

    _history_user: AbstractBaseUser | None
    _change_reason: str | Promise | None
