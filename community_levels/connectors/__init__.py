"""Connectors pull activity from a community platform as canonical events.

Every connector has the same shape (`Connector`), so the beat job and the ingestion pipeline do
not care where the events come from; add a platform by adding a class and a `CommunitySource.Kind`.
"""

from community_levels.connectors.base import Connector
from community_levels.connectors.discourse import DiscourseConnector


def connector_for(source) -> Connector:
    if source.kind == source.Kind.DISCOURSE:
        return DiscourseConnector(source)
    raise ValueError(f"No connector for {source.kind!r}")


__all__ = ["Connector", "DiscourseConnector", "connector_for"]
