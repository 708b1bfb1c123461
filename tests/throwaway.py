"""Private PostgreSQL clusters for fault tests: never the machine's shared services."""

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import free_port, wait_for_port


def _pg_bin() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries are not installed (scripts/test installs them)")
    return Path(candidates[-1]).parent


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root; run them as the postgres system user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class ThrowawayPostgres:
    port: int
    datadir: Path
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/mahome"

    def _ctl(self, *args: str) -> None:
        # The server's output goes to a log file: a pipe would be held open by the postmaster.
        subprocess.run(
            _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "-t", "30", *args]),
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", str(self.datadir / "server.log"), "-o", options, "start")
        wait_for_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")


@contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    bindir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="mahome-pg-"))
    datadir = root / "data"
    datadir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(datadir, "postgres", "postgres")
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    cluster = ThrowawayPostgres(port=free_port(), datadir=datadir, bindir=bindir)
    cluster.start()
    try:
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "mahome"],
            check=True,
            capture_output=True,
        )
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
