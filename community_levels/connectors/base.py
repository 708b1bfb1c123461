import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import requests
from django.conf import settings

logger = logging.getLogger(__name__)


class ConnectorError(Exception):
    """The platform refused or failed for good; the message says what the admin should do."""


@dataclass
class Page:
    """Events read from one stream, and that stream's cursor once they are stored.

    The service stores the events and the cursor in one transaction, so a cursor never moves over
    events that were not written, and a run killed between two pages resumes at the next one.
    """

    stream: str
    events: list[dict]
    cursor: dict
    done: bool = True
    skipped: int = 0
    extra_cursor: dict = field(default_factory=dict)
    # (event ids, reason): stored events the platform has removed since, to be taken back
    revoke: tuple[list[str], str] = field(default_factory=lambda: ([], ""))


class Connector(ABC):
    """Pulls canonical events from a platform, page by page, from a stored cursor."""

    def __init__(self, source) -> None:
        self.source = source
        # True once pages() read every stream to its end; False when it stopped at the deadline.
        self.caught_up = False

    @property
    @abstractmethod
    def requests(self) -> int:
        """HTTP requests made so far (retries included)."""

    @abstractmethod
    def pages(self, cursor: dict, *, deadline: float) -> Iterator[Page]:
        """Yield pages until every stream is caught up or `deadline` (time.monotonic()) passes.

        `cursor` is the source's stored cursor (one key per stream); raise ConnectorError with a
        message for a person when the platform refuses for good."""


class HttpError(Exception):
    def __init__(self, status: int, path: str, body: dict | list | None) -> None:
        self.status, self.path, self.body = status, path, body
        errors = body.get("errors") if isinstance(body, dict) else None
        detail = "; ".join(str(e) for e in errors) if errors else ""
        super().__init__(f"HTTP {status} on {path}" + (f": {detail}" if detail else ""))


class HttpClient:
    """requests with pacing and retries.

    Pacing: at most `requests_per_minute` requests (the platform's limit is shared by every
    integration of the site, so stay under it). Retries: Retry-After honoured on 429, exponential
    backoff on 5xx and network errors; any other 4xx is raised at once as HttpError.
    """

    def __init__(self, *, base: str, headers: dict, requests_per_minute: float, timeout: float = 30.0) -> None:
        self.base = base.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers)
        self.timeout = timeout
        self.max_attempts = settings.COMMUNITY_CONNECTOR_MAX_ATTEMPTS
        self.backoff = settings.COMMUNITY_CONNECTOR_BACKOFF_SECONDS
        self.interval = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
        self.count = 0
        self.retries = 0
        self._last = 0.0

    def get(self, path: str, params: dict | None = None):
        return self._send("GET", path, params=params)

    def post(self, path: str, data: dict):
        return self._send("POST", path, data=data)

    def _pace(self) -> None:
        wait = self._last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last = time.monotonic()

    def _send(self, method: str, path: str, **kwargs):
        for attempt in range(1, self.max_attempts + 1):
            self._pace()
            self.count += 1
            try:
                response = self.session.request(method, self.base + path, timeout=self.timeout, **kwargs)
            except requests.RequestException as error:
                if attempt == self.max_attempts:
                    raise ConnectorError(
                        f"Could not reach {self.base} after {attempt} attempts ({error}). "
                        "Check the base URL and that the forum is up; the next run continues where this one stopped."
                    ) from error
                self._wait(self.backoff * 2 ** (attempt - 1), f"{error}")
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.max_attempts:
                    raise HttpError(response.status_code, path, _body(response))
                delay = self.backoff * 2 ** (attempt - 1)
                if response.status_code == 429:
                    delay = _retry_after(response.headers.get("Retry-After"), default=delay)
                self._wait(delay, f"HTTP {response.status_code}")
                continue
            if response.status_code >= 400:
                raise HttpError(response.status_code, path, _body(response))
            return response.json()
        raise RuntimeError("unreachable")

    def _wait(self, seconds: float, why: str) -> None:
        self.retries += 1
        logger.info("Retrying after %s in %.1fs", why, seconds)
        time.sleep(min(seconds, 60.0))


def _body(response) -> dict | list | None:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(value: str | None, *, default: float) -> float:
    if value is None:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        return default
