"""A real Celery worker process against the real Redis and the test database."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from mahome.celery import app
from mahome.models import WorkerHeartbeat
from tests.helpers import BASE_DIR

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BROKER = "redis://127.0.0.1:6379/14"


@pytest.fixture
def real_worker(settings):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mahome.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mahome",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    app.conf.task_always_eager = False
    app.conf.broker_url = BROKER
    try:
        yield queue, worker
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_a_real_worker_runs_the_heartbeat_and_health_sees_it(real_worker, client, settings):
    queue, worker = real_worker
    settings.CELERY_BROKER_URL = BROKER
    assert client.get("/healthz").json()["worker"] == "stale"

    from mahome.tasks import heartbeat

    with app.connection_for_write(BROKER) as conn:
        heartbeat.apply_async(queue=queue, connection=conn)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
        if worker.poll() is not None:
            pytest.fail(f"worker exited: {worker.stdout.read().decode()}")
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.count() == 1
    body = client.get("/healthz").json()
    assert body["worker"] == "ok"
    assert body["worker_last_seen"] is not None
