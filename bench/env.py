"""The benchmark's database and the production-like environment every process of it shares."""

import os
import secrets
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
RESULTS = ROOT / "bench-results"
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
DB_NAME = os.environ.get("MAHOME_BENCH_DB", "mahome_bench")
DATABASE_URL = f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DB_NAME}"
# A Redis database of its own, so the tasks the pages enqueue (emails, recomputes) pile up nowhere shared.
BROKER_URL = os.environ.get("MAHOME_BENCH_BROKER", "redis://127.0.0.1:6379/13")


def django_env() -> dict[str, str]:
    """Environment of every process (this one, gunicorn, the ingestion child): production settings."""
    VAR.mkdir(parents=True, exist_ok=True)
    key_file = VAR / "secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    # Production settings need the credential issuer's private key (ES256, PEM): one made for the benchmark.
    signing_file = VAR / "credential-signing-key.pem"
    if not signing_file.exists():
        from joserfc.jwk import ECKey

        signing_file.write_text(ECKey.generate_key("P-256", private=True).as_pem(private=True).decode())
    return {
        "DJANGO_SETTINGS_MODULE": "mahome.settings.production",
        "DJANGO_SECRET_KEY": key_file.read_text(),
        "MAHOME_CREDENTIAL_SIGNING_KEY": signing_file.read_text(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "EMAIL_URL": "dummymail://",
        "DEFAULT_FROM_EMAIL": "MA Home <bench@localhost>",
        "MAHOME_MEDIA_ROOT": str(VAR / "media"),
        "MAHOME_VAR_DIR": str(VAR),
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def setup_django() -> None:
    os.environ.update(django_env())
    import django

    django.setup()


def psql(*args: str, db: str = DB_NAME, capture: bool = True) -> str:
    command = ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", db, "-v", "ON_ERROR_STOP=1", "-qAt"]
    done = subprocess.run([*command, *args], check=True, capture_output=capture, text=True)  # noqa: S603
    return (done.stdout or "").strip()


def database_exists() -> bool:
    query = f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'"  # noqa: S608 - our own constant
    return psql("-c", query, db="postgres") == "1"


def database_recreate() -> None:
    psql("-c", f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)', db="postgres")
    psql("-c", f'CREATE DATABASE "{DB_NAME}"', db="postgres")
