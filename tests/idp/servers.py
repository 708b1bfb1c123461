"""Start real identity providers (npm ``oidc-provider`` and ``saml-idp``) on loopback.

Standard library only, no Django imports: usable from any pytest fixture.

    from tests.idp.servers import free_port, run_oidc_provider, run_saml_idp

    with run_oidc_provider(port=free_port(), client_id="ma-home", client_secret="s3cret",
                           redirect_uris=["http://127.0.0.1:8000/accounts/oidc/test/login/callback/"],
                           accounts=[{"sub": "alice", "email": "alice@example.com",
                                      "email_verified": True, "name": "Alice Example"}]) as idp:
        idp.issuer  # "http://127.0.0.1:PORT" -> allauth settings {"server_url": idp.issuer}

See README.md in this folder for the allauth settings and the Playwright selectors.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

IDP_DIR = Path(__file__).resolve().parent
NODE_MODULES = IDP_DIR / "node_modules"
START_TIMEOUT = 20.0

__all__ = [
    "IdpStartError",
    "OidcIdp",
    "SamlIdp",
    "ensure_npm_installed",
    "free_port",
    "run_oidc_provider",
    "run_saml_idp",
]


class IdpStartError(RuntimeError):
    """An IdP process did not come up; the message holds its output."""


# free_port() hands out ports below Linux's ephemeral range (32768-60999), from which the kernel picks
# the local port of every outgoing connection and of bind(("127.0.0.1", 0)).
PORTS_FIRST, PORTS_END = 20000, 32000


def _port_block() -> range:
    """This process's own ports: a block for each pytest-xdist worker (gw0, gw1, ...) and one for a
    run without workers, so two workers never hand out the same port."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    blocks = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0")) + 1
    index = int(worker.removeprefix("gw")) + 1 if worker.startswith("gw") else 0
    size = (PORTS_END - PORTS_FIRST) // blocks
    start = PORTS_FIRST + (index % blocks) * size
    return range(start, start + size)


_ports_lock = threading.Lock()
_ports: Iterator[int] | None = None


def _port_cycle() -> Iterator[int]:
    block = _port_block()
    # A random start, so that two test runs at once (each with its own gw0) rarely walk in step.
    first = random.randrange(len(block))
    return itertools.cycle([*block[first:], *block[:first]])


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now, and no other process of the test run will be given.

    Not bind(0): a port the kernel lends there can meanwhile go to another worker's server, or to an
    outgoing connection, which matters for a test that stops a server and starts it again on the same
    port (Redis, PostgreSQL). Each call takes the next port of this process's block, so a port is not
    handed out twice before the whole block has gone round.
    """
    global _ports
    with _ports_lock:
        if _ports is None:
            _ports = _port_cycle()
        for port in itertools.islice(_ports, len(_port_block())):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    continue  # in use (a listener, or connections of a recent server still in TIME_WAIT)
                return port
    block = _port_block()
    raise OSError(f"no free port in {block.start}-{block.stop - 1} on 127.0.0.1")


_install_lock = threading.Lock()


def _installed() -> bool:
    return all((NODE_MODULES / name / "package.json").is_file() for name in ("oidc-provider", "saml-idp", "samlp"))


@contextlib.contextmanager
def _npm_lock() -> Iterator[None]:
    """Held while ``npm ci`` runs: across the threads of this process, and across processes (pytest-xdist's
    workers), since ``npm ci`` deletes node_modules first and two at once would break each other."""
    lock_path = Path(tempfile.gettempdir()) / f"mahome-idp-npm-{hashlib.sha256(bytes(IDP_DIR)).hexdigest()[:12]}.lock"
    with _install_lock, open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def ensure_npm_installed() -> None:
    """Run ``npm ci`` in tests/idp if its node_modules are missing."""
    if _installed():
        return
    with _npm_lock():
        if _installed():
            return
        npm = shutil.which("npm")
        if npm is None:
            raise IdpStartError("npm is not on PATH: the test IdPs need Node.js (>= 20) and npm")
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=IDP_DIR,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0 or not _installed():
            raise IdpStartError(
                f"`npm ci` in {IDP_DIR} failed (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )


@dataclass(frozen=True)
class OidcIdp:
    issuer: str
    port: int
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    accounts: tuple[dict, ...]
    process: subprocess.Popen = field(repr=False, compare=False)
    log_path: Path = field(repr=False, compare=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def output(self) -> str:
        return _read_log(self.log_path)


@dataclass(frozen=True)
class SamlIdp:
    base_url: str
    port: int
    entity_id: str
    metadata_url: str
    sso_url: str
    acs_url: str
    audience: str
    cert_pem: str
    user: dict
    process: subprocess.Popen = field(repr=False, compare=False)
    log_path: Path = field(repr=False, compare=False)

    @property
    def cert_base64(self) -> str:
        """The certificate body without PEM armour (allauth's ``idp.x509cert``)."""
        return "".join(line for line in self.cert_pem.splitlines() if line and not line.startswith("-----"))

    def output(self) -> str:
        return _read_log(self.log_path)


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # saml-idp lets PORT/HOST override its options; chalk would add colour codes.
    for name in ("PORT", "HOST", "FORCE_COLOR"):
        env.pop(name, None)
    env["NO_COLOR"] = "1"
    env.setdefault("NODE_ENV", "test")
    return env


def _stop(proc: subprocess.Popen) -> None:
    """Terminate the process group started for ``proc`` (node and anything it spawned)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    else:
        # The leader is gone; make sure no stray member of its group survives.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _wait_http(url: str, proc: subprocess.Popen, log_path: Path, what: str, ready_marker: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last_error: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise IdpStartError(
                f"{what} exited with code {proc.returncode} before answering {url}.\n"
                f"--- output ---\n{_read_log(log_path)}"
            )
        if ready_marker in _read_log(log_path):
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except (urllib.error.URLError, OSError) as exc:
                last_error = exc
        time.sleep(0.1)
    raise IdpStartError(
        f"{what} did not answer {url} within {START_TIMEOUT:.0f} s (last error: {last_error}).\n"
        f"--- output ---\n{_read_log(log_path)}"
    )


@contextlib.contextmanager
def _node_process(script: str, args: Sequence[str], tmp: Path) -> Iterator[tuple[subprocess.Popen, Path]]:
    node = shutil.which("node")
    if node is None:
        raise IdpStartError("node is not on PATH: the test IdPs need Node.js (>= 20)")
    log_path = tmp / "output.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [node, str(IDP_DIR / script), *args],
            cwd=IDP_DIR,
            env=_child_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, so _stop() can kill it whole
        )
    try:
        yield proc, log_path
    finally:
        _stop(proc)


@contextlib.contextmanager
def run_oidc_provider(
    *,
    port: int,
    client_id: str,
    client_secret: str,
    redirect_uris: Sequence[str],
    accounts: Sequence[dict],
    token_auth_method: str = "client_secret_post",
) -> Iterator[OidcIdp]:
    """Run oidc.mjs on 127.0.0.1:``port``; issuer is ``http://127.0.0.1:PORT``.

    ``accounts``: [{"sub", "email", "email_verified", "name", ...}] -- log in by typing the
    ``sub``. Extra keys (given_name, family_name, preferred_username) are served as claims too.
    """
    if isinstance(redirect_uris, str):
        redirect_uris = [redirect_uris]
    ensure_npm_installed()
    issuer = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="oidc-idp-") as tmpdir:
        tmp = Path(tmpdir)
        accounts_file = tmp / "accounts.json"
        accounts_file.write_text(json.dumps(list(accounts)))
        args = [
            "--port",
            str(port),
            "--issuer",
            issuer,
            "--client-id",
            client_id,
            "--client-secret",
            client_secret,
            "--accounts",
            str(accounts_file),
            "--token-auth-method",
            token_auth_method,
        ]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        with _node_process("oidc.mjs", args, tmp) as (proc, log_path):
            _wait_http(
                f"{issuer}/.well-known/openid-configuration",
                proc,
                log_path,
                "oidc-provider (tests/idp/oidc.mjs)",
                "OIDC_IDP_READY",
            )
            yield OidcIdp(
                issuer=issuer,
                port=port,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uris=tuple(redirect_uris),
                accounts=tuple(dict(a) for a in accounts),
                process=proc,
                log_path=log_path,
            )


@contextlib.contextmanager
def run_saml_idp(
    *,
    port: int,
    acs_url: str,
    audience: str,
    issuer: str,
    user: dict,
) -> Iterator[SamlIdp]:
    """Run saml.mjs (saml-idp) on 127.0.0.1:``port``.

    ``issuer`` is the IdP entity ID (any URI, e.g. ``urn:ma-home:test-idp``).
    ``audience`` is the SP entity ID -- for allauth, by default the SP metadata URL
    ``http://HOST/accounts/saml/<client_id>/metadata/``.
    ``user``: {"userName": NameID, "email": ..., "firstName": ..., "lastName": ..., ...};
    every key but the NameID ones becomes a SAML attribute of that exact Name.
    """
    openssl = shutil.which("openssl")
    if openssl is None:
        raise IdpStartError("openssl is not on PATH (needed for the SAML IdP's signing cert)")
    ensure_npm_installed()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="saml-idp-") as tmpdir:
        tmp = Path(tmpdir)
        cert_file, key_file = tmp / "idp-cert.pem", tmp / "idp-key.pem"
        gen = subprocess.run(
            [
                openssl,
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=test-idp",
                "-keyout",
                str(key_file),
                "-out",
                str(cert_file),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if gen.returncode != 0:
            raise IdpStartError(f"openssl failed:\n{gen.stderr}")
        user_file = tmp / "user.json"
        user_file.write_text(json.dumps(dict(user)))
        args = [
            "--port",
            str(port),
            "--issuer",
            issuer,
            "--acs-url",
            acs_url,
            "--audience",
            audience,
            "--user",
            str(user_file),
            "--cert",
            str(cert_file),
            "--key",
            str(key_file),
        ]
        with _node_process("saml.mjs", args, tmp) as (proc, log_path):
            metadata_url = f"{base_url}/metadata"
            _wait_http(metadata_url, proc, log_path, "saml-idp (tests/idp/saml.mjs)", "SAML_IDP_READY")
            yield SamlIdp(
                base_url=base_url,
                port=port,
                entity_id=issuer,
                metadata_url=metadata_url,
                sso_url=f"{base_url}/saml/sso",
                acs_url=acs_url,
                audience=audience,
                cert_pem=cert_file.read_text(),
                user=dict(user),
                process=proc,
                log_path=log_path,
            )
