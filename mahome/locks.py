"""Locks that cannot pile up: a locking service waits at most a short `lock_timeout` for a row
another request holds, then answers "busy, try again" instead of queueing every web worker behind it
(pretix's `base/services/locking.py: lock_objects` does both).

Entry points (a member's request, a task) pass `durable=True`: they own their transaction, so the
lock is released at their commit. Services the admin's `save_model` or another service call run
inside that caller's transaction and cannot be durable; they still get the timeout.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from django.utils.functional import Promise

from mahome.errors import DomainError

# How long a write waits for a row another request holds before answering "busy".
LOCK_TIMEOUT = "5s"


def set_lock_timeout(timeout: str = LOCK_TIMEOUT) -> None:
    """Wait at most `timeout` for any lock until this transaction ends (SET LOCAL; PostgreSQL only)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])


def is_lock_timeout(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) == "55P03"  # lock_not_available


@contextmanager
def locked_or_busy(
    *,
    busy: str | Promise,
    error_class: type[DomainError] = DomainError,
    durable: bool = False,
    timeout: str = LOCK_TIMEOUT,
) -> Iterator[None]:
    """A transaction whose lock waits end after `timeout` with `error_class(busy)`, rolled back."""
    try:
        with transaction.atomic(durable=durable):
            set_lock_timeout(timeout)
            yield
    except OperationalError as error:
        if is_lock_timeout(error):
            raise error_class(str(busy)) from error
        raise
