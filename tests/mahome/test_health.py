from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from mahome.models import WorkerHeartbeat
from tests.helpers import free_port, throwaway_redis

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_with_database_and_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["worker"] == "stale"  # no heartbeat yet


def test_healthz_reports_a_recent_heartbeat_as_ok_and_an_old_one_as_stale(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    heartbeat = WorkerHeartbeat.objects.create(worker="w1", last_seen=timezone.now())
    assert client.get("/healthz").json()["worker"] == "ok"
    WorkerHeartbeat.objects.filter(pk=heartbeat.pk).update(last_seen=timezone.now() - timedelta(minutes=10))
    assert client.get("/healthz").json()["worker"] == "stale"


def test_healthz_with_unreachable_broker_answers_503_with_json(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


@pytest.mark.slow
def test_healthz_goes_503_when_redis_stops_and_200_when_it_is_back(live_server, settings):
    """Same web process throughout: no restart needed to see Redis come back."""
    port = free_port()
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
    url = f"{live_server.url}/healthz"
    with throwaway_redis(port):
        first = requests.get(url, timeout=5)
        assert first.status_code == 200, first.text
        assert first.json()["broker"] == "ok"
    # Redis is stopped now. A timeout on the client proves the answer does not hang.
    down = requests.get(url, timeout=5)
    assert down.status_code == 503
    assert down.json() == down.json() | {"broker": "down", "database": "ok", "status": "degraded"}
    with throwaway_redis(port):
        again = requests.get(url, timeout=5)
        assert again.status_code == 200
        assert again.json()["broker"] == "ok"
