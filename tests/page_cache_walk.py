"""The scenario walk shared by the three cached pages' tests (the dashboard, the opportunities list and the
community page): after every kind of write, the cached body must be what a fresh render gives."""

from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext


class CachedPageWalk:
    """After each step, for the step's page (`key`: its query string where a page has several): the cached
    body equals a fresh render, differs from that page's previous body when the step `changes` what it
    shows, and the next request with nothing changed is served from the cache with one query (the
    fingerprint).

    `body(key, use_cache=..., request=None)` renders the page; `request(key)` builds a request as the
    authentication middleware leaves it (the user read again, as on each request).
    """

    def __init__(self, body: Callable[..., str], request: Callable[[str], HttpRequest]) -> None:
        self.body, self.request = body, request
        self.previous: dict[str, str] = {}

    def check(self, step: str, key: str = "", *, changes: bool = True) -> str:
        cached = self.body(key, use_cache=True)
        fresh = self.body(key, use_cache=False)
        assert cached == fresh, f"stale page after: {step} ({key})"
        if changes and key in self.previous:
            assert fresh != self.previous[key], f"the step changed nothing the page shows: {step} ({key})"
        request = self.request(key)
        with CaptureQueriesContext(connection) as queries:
            again = self.body(key, use_cache=True, request=request)
        assert again == fresh, step
        assert len(queries.captured_queries) == 1, step
        self.previous[key] = fresh
        return fresh
