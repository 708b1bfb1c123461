"""scripts/backup and scripts/restore: a real round trip on a throwaway PostgreSQL cluster, and
the refusals that protect an installation from a careless restore."""

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from tests.helpers import BASE_DIR

BACKUP = str(BASE_DIR / "scripts" / "backup")
RESTORE = str(BASE_DIR / "scripts" / "restore")

SEED = """
from datetime import date
from django.core.files.base import ContentFile
from accounts.services import member_provision
from contributions.models import ActivityType, Contribution, ProgramYear

rita = member_provision(email="rita@example.com", first_name="Rita", last_name="Restore",
                        certificate_number="MA-2024-0001", qualified_on=date(2024, 5, 1))
member_provision(email="sam@example.com", first_name="Sam", last_name="Backup",
                 certificate_number="MA-2025-0002", qualified_on=date(2025, 3, 1))
year = ProgramYear.objects.create(year=2026, opens_on=date(2026, 1, 1), deadline=date(2027, 1, 1))
blog = ActivityType.objects.create(program_year=year, code="blog", name="Blog post", category="brand", points=20)
contribution = Contribution(member=rita, program_year=year, activity_type=blog, title="Backups explained",
                            occurred_on=date(2026, 2, 1), claimed_points=20, state="submitted")
contribution.evidence_file.save("evidence.pdf", ContentFile(b"%PDF-1.4 evidence that must survive"), save=False)
contribution.save()
"""

# Run by the application itself against the restored database and media folder.
CHECK_RESTORED = """
from django.core.management import call_command
from contributions.models import Contribution
call_command("migrate", check_unapplied=True, verbosity=0)
contribution = Contribution.objects.select_related("member").get(title="Backups explained")
with contribution.evidence_file.open("rb") as handle:
    print(contribution.member.email, handle.read().decode())
"""


def _env(**extra: str) -> dict:
    """The test process's environment minus the suite's own database settings."""
    keep = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MAHOME_MEDIA_ROOT", "MAHOME_VAR_DIR")}
    keep.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return keep | {"DJANGO_SETTINGS_MODULE": "mahome.settings.test", "PYTHON": sys.executable} | extra


def _run(args: list[str], env: dict, *, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"{args[0]} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "manage.py", *args], env)


def _fingerprint(url: str) -> dict:
    """Row count and a digest of every row of every table, plus every sequence's position."""
    prints: dict = {}
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        for (table,) in cursor.fetchall():
            cursor.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t"
                ).format(sql.Identifier(table))
            )
            prints[table] = cursor.fetchone()
        cursor.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
        prints["(sequences)"] = cursor.fetchall()
    conn.close()
    return prints


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _url_for(cluster_url: str, name: str) -> str:
    return cluster_url.rsplit("/", 1)[0] + "/" + name


@pytest.mark.slow
def test_backup_then_restore_into_a_new_database_gives_back_every_row_and_file(tmp_path):
    from tests.throwaway import throwaway_postgres

    with throwaway_postgres() as pg:
        media = tmp_path / "media"
        media.mkdir()
        source = _env(DATABASE_URL=pg.url, MAHOME_MEDIA_ROOT=str(media))
        _manage(source, "migrate", "-v0")
        _manage(source, "shell", "-c", SEED)
        (media / "community-imports").mkdir()
        (media / "community-imports" / "café activity.jsonl").write_text('{"event_id": "1"}\n', encoding="utf-8")
        before = _fingerprint(pg.url)
        media_before = _tree(media)
        assert before["accounts_user"][0] == 2
        assert before["contributions_contribution"][0] == 1
        assert before["accounts_macertification"][0] == 2
        assert len(media_before) == 2

        # Two old archives; --keep 2 keeps the new one and the newer old one.
        backups = tmp_path / "backups"
        backups.mkdir()
        for stamp in ("20200101T000000Z", "20210101T000000Z"):
            (backups / f"mahome-backup-{stamp}.tar.gz").write_bytes(b"old")
        # A password in the URL (trust auth ignores it) must not end up in the output or the archive.
        with_password = source | {"DATABASE_URL": pg.url.replace("postgres@", "postgres:s3cret-pw@")}
        done = _run([BACKUP, "--output-dir", str(backups), "--keep", "2"], with_password)
        archives = sorted(p.name for p in backups.glob("mahome-backup-*.tar.gz"))
        assert len(archives) == 2 and archives[0] == "mahome-backup-20210101T000000Z.tar.gz", archives
        archive = backups / archives[1]
        assert str(archive) in done.stdout
        assert "s3cret-pw" not in done.stdout + done.stderr
        with tarfile.open(archive) as tar:
            manifest = tar.extractfile("./MANIFEST").read().decode()
        assert "s3cret-pw" not in manifest and f"127.0.0.1:{pg.port}/mahome" in manifest
        assert not list(backups.glob("*.partial")) and not list(backups.glob(".mahome-backup-*"))

        # The source changes after the backup: the restore must give back the backup, not this.
        with psycopg2.connect(pg.url) as conn, conn.cursor() as cursor:
            cursor.execute("UPDATE accounts_user SET first_name = 'Changed' WHERE email = 'sam@example.com'")
        conn.close()

        subprocess.run(
            [str(pg.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "restored"],
            check=True,
            capture_output=True,
        )
        restored_url = _url_for(pg.url, "restored")
        restored_media = tmp_path / "restored-media"
        target = _env(DATABASE_URL=restored_url, MAHOME_MEDIA_ROOT=str(restored_media))
        listed = _run([RESTORE, str(archive), "--list"], target)
        assert "database.dump sha256" in listed.stdout
        _run([RESTORE, str(archive)], target)

        assert _fingerprint(restored_url) == before
        assert _tree(restored_media) == media_before
        checked = _manage(target, "shell", "-c", CHECK_RESTORED)
        assert "rita@example.com %PDF-1.4 evidence that must survive" in checked.stdout

        # A second restore over the now non-empty database and media is refused; nothing changes.
        with psycopg2.connect(restored_url) as conn, conn.cursor() as cursor:
            cursor.execute("DELETE FROM accounts_invitation")  # it refers to the invitation's notification
            cursor.execute("DELETE FROM accounts_notification")
        conn.close()
        changed = _fingerprint(restored_url)
        refused = _run([RESTORE, str(archive)], target, check=False)
        assert refused.returncode == 2
        assert "refused" in refused.stderr and "already has" in refused.stderr
        assert _fingerprint(restored_url) == changed
        (restored_media / "uploaded-after.txt").write_text("new")
        refused = _run([RESTORE, str(archive), "--no-media"], target, check=False)
        assert refused.returncode == 2 and "--force" in refused.stderr

        # --force replaces the data and moves the existing media aside instead of deleting it.
        _run([RESTORE, str(archive), "--force"], target)
        assert _fingerprint(restored_url) == before
        assert _tree(restored_media) == media_before
        aside = list(tmp_path.glob("restored-media.before-restore-*"))
        assert len(aside) == 1 and (aside[0] / "uploaded-after.txt").read_text() == "new"


# --- Usage errors and damaged archives (no database needed) -----------------------------------------


def test_backup_explains_its_usage_and_refuses_what_it_cannot_back_up(tmp_path):
    helped = _run([BACKUP, "--help"], _env())
    assert "Usage: scripts/backup" in helped.stdout

    missing = _run([BACKUP], _env(), check=False)
    assert missing.returncode == 2 and "DATABASE_URL is not set" in missing.stderr

    sqlite = _run([BACKUP], _env(DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3"), check=False)
    assert sqlite.returncode == 2 and "not a PostgreSQL URL" in sqlite.stderr

    unknown = _run([BACKUP, "--frobnicate"], _env(), check=False)
    assert unknown.returncode == 2 and "unknown argument: --frobnicate" in unknown.stderr

    bad_keep = _run([BACKUP, "--keep", "0"], _env(), check=False)
    assert bad_keep.returncode == 2 and "--keep" in bad_keep.stderr

    no_media = _run(
        [BACKUP, "--output-dir", str(tmp_path / "out"), "--media", str(tmp_path / "nowhere")],
        _env(DATABASE_URL="postgres://postgres@127.0.0.1:1/mahome"),
        check=False,
    )
    assert no_media.returncode == 1 and "does not exist" in no_media.stderr
    assert not list((tmp_path / "out").glob("*"))


def _archive(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return path


def test_restore_refuses_missing_foreign_and_damaged_archives(tmp_path):
    env = _env(DATABASE_URL="postgres://postgres@127.0.0.1:1/mahome", MAHOME_MEDIA_ROOT=str(tmp_path / "media"))

    no_args = _run([RESTORE], env, check=False)
    assert no_args.returncode == 2 and "which archive" in no_args.stderr

    absent = _run([RESTORE, str(tmp_path / "absent.tar.gz")], env, check=False)
    assert absent.returncode == 2 and "no such file" in absent.stderr

    foreign = _archive(tmp_path / "foreign.tar.gz", {"notes.txt": b"hello"})
    result = _run([RESTORE, str(foreign)], env, check=False)
    assert result.returncode == 1 and "not an MA Home backup" in result.stderr

    damaged = _archive(
        tmp_path / "damaged.tar.gz",
        {"MANIFEST": b"database.dump sha256: " + b"0" * 64 + b"\n", "database.dump": b"not a dump"},
    )
    result = _run([RESTORE, str(damaged)], env, check=False)
    assert result.returncode == 1 and "damaged" in result.stderr
    assert not (tmp_path / "media").exists()
