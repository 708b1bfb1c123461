"""What the benchmark modules share: the run's clock and log, and the seeded actors they measure with."""

import time

STARTED = time.perf_counter()
INGEST_SOURCE = "bench-ingest"
TRIVIAL_EMAIL = "bench.trivial@bench.example"
HEAVY_EMAIL = "bench.ma1@bench.example"


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:6.1f}s] {message}", flush=True)
