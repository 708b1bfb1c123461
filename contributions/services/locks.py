"""The short lock_timeout every locking contributions service runs under, and its "busy" answers.

Tests that shorten the wait patch `LOCK_TIMEOUT` here (the module that reads it).
"""

import functools

from django.db import connection
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from contributions.errors import ContributionError
from mahome.locks import locked_or_busy

# How long a staff write waits for a row another request holds before answering "busy".
LOCK_TIMEOUT = "5s"


def _locked_write(busy_message: str | Promise, *, durable: bool = False):
    """Run a locking service in a transaction with a short lock_timeout: a row held by someone
    else makes it answer `busy_message` instead of piling requests up behind the lock.
    `durable` for entry points no other transaction may wrap (a member's page)."""

    def decorate(service):
        @functools.wraps(service)
        def locked(*args, **kwargs):
            with locked_or_busy(
                busy=busy_message, error_class=ContributionError, durable=durable, timeout=LOCK_TIMEOUT
            ):
                return service(*args, **kwargs)

        return locked

    return decorate


def _staff_write(busy_message: str | Promise):
    """A staff write: the lock timeout, not durable (the admin's actions and forms call these inside
    their own transaction)."""
    return _locked_write(busy_message)


# A member's own item is locked by a verifier deciding on it; the member's page then answers this.
BUSY_OWN = gettext_lazy(
    "This contribution is being changed elsewhere right now (perhaps a verifier is deciding on it); "
    "try again in a moment."
)

BUSY_CONTRIBUTION = gettext_lazy("Someone else is deciding on this contribution right now; try again in a moment.")
BUSY_REQUIREMENT = gettext_lazy("Someone else is changing this requirement status right now; try again in a moment.")


# pg_advisory_xact_lock(OWN_CLAIMS_LOCK, member id): what decides whether two of a member's claims are the
# same claim (a new or changed claim, a decision that would make one count) runs one at a time per member.
OWN_CLAIMS_LOCK = 0x4D43


def member_claims_lock(member_id: int) -> None:
    """Hold the member's claims lock until the transaction ends (PostgreSQL; SQLite writes one at a time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [OWN_CLAIMS_LOCK, member_id])
