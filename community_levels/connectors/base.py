import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import datetime

import requests
from django.conf import settings

from community_levels.ingestion import LineError, ParsedLine, record_from_mapping

logger = logging.getLogger(__name__)


class Connector(ABC):
    """Pulls canonical events from a platform; `fetch_events(since)` yields plain dicts."""

    def __init__(self, source) -> None:
        self.source = source
        self.cursor: dict = dict(source.cursor or {})
        self.errors = 0
        self.requests = 0

    @abstractmethod
    def fetch_events(self, since: datetime | None) -> Iterator[dict]:
        """The platform's activity since `since`, as canonical event dicts, newest cursor kept in self.cursor."""

    def events(self, since: datetime | None) -> Iterator[ParsedLine]:
        """The connector's events validated exactly like a file's lines (item number as the line)."""
        for number, data in enumerate(self.fetch_events(since), start=1):
            try:
                yield number, record_from_mapping(data)
            except ValueError as error:
                yield number, LineError(f"{data.get('event_id', '?')}: {error}")


class HttpClient:
    """requests with retries: honours Retry-After on 429, backs off exponentially on 5xx and network errors."""

    def __init__(self, *, headers: dict, timeout: float = 15.0) -> None:
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.timeout = timeout
        self.max_attempts = settings.COMMUNITY_CONNECTOR_MAX_ATTEMPTS
        self.backoff = settings.COMMUNITY_CONNECTOR_BACKOFF_SECONDS
        self.retries = 0

    def get_json(self, url: str, params: dict | None = None) -> dict:
        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except requests.RequestException as error:
                if attempt == self.max_attempts:
                    raise
                self._wait(self.backoff * 2 ** (attempt - 1), f"{error}")
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.max_attempts:
                    response.raise_for_status()
                delay = self.backoff * 2 ** (attempt - 1)
                if response.status_code == 429:
                    delay = _retry_after(response.headers.get("Retry-After"), default=delay)
                self._wait(delay, f"HTTP {response.status_code}")
                continue
            response.raise_for_status()
            return response.json()
        raise RuntimeError("unreachable")

    def _wait(self, seconds: float, why: str) -> None:
        self.retries += 1
        logger.info("Retrying after %s in %.1fs", why, seconds)
        time.sleep(min(seconds, 60.0))


def _retry_after(value: str | None, *, default: float) -> float:
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        return default
