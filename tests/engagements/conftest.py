"""A live server whose concurrency is bounded, for races of hundreds of real HTTP clients.

Django's live server starts one thread (and so one PostgreSQL connection) per request; 200
simultaneous requests would exceed PostgreSQL's max_connections (100) and fail with 5xx.
This server serves requests from a pool of a few threads and keeps a deep listen backlog, so
extra connections wait in the kernel's queue instead of failing, as behind a real server.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.core.wsgi import get_wsgi_application
from django.test.testcases import QuietWSGIRequestHandler


class BoundedWSGIServer(ThreadedWSGIServer):
    request_queue_size = 512

    def __init__(self, *args, max_threads: int = 16, **kwargs):
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="bounded-live-server")

    def process_request(self, request, client_address) -> None:
        # process_request_thread finishes the request and closes the thread's DB connection.
        self._pool.submit(self.process_request_thread, request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=True)


class BoundedLiveServer:
    def __init__(self, max_threads: int):
        self.server = BoundedWSGIServer(
            ("127.0.0.1", 0), QuietWSGIRequestHandler, allow_reuse_address=False, max_threads=max_threads
        )
        self.server.set_app(get_wsgi_application())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def bounded_live_server(transactional_db):
    server = BoundedLiveServer(max_threads=16)
    yield server
    server.stop()
