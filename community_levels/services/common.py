"""What the community_levels services share: the domain error and the recompute they enqueue."""

import logging

from django.db import transaction

from mahome.errors import DomainError

logger = logging.getLogger("community_levels.services")


FILE_SOURCE = "file"


class CommunityError(DomainError):
    """A rule of the community program refused the change; the message is for the person."""


def enqueue_recompute(*, full: bool = False, reason: str = "", is_rule_change: bool = False) -> None:
    from community_levels.tasks import levels_recompute_task

    def send() -> None:
        try:
            levels_recompute_task.delay(full, reason, is_rule_change)
        except Exception:  # noqa: BLE001 - a broker outage must not fail an import; the next run catches up
            logger.warning("Broker unavailable; the next recompute will take the new activity")

    transaction.on_commit(send, robust=True)
