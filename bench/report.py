"""The benchmark's one table (and its JSON): each figure beside what it is compared with, in the same run."""

import json
import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Row:
    name: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    note: str = ""
    ok: bool = True  # False makes scripts/bench exit non-zero (errors, overbooking)

    @property
    def ratio(self) -> float | None:
        if self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value


def number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio_text(row: Row) -> str:
    ratio = row.ratio
    return "—" if ratio is None else f"{ratio:.2f}×"


HEADERS = ("benchmark", "figure", "unit", "compared with (same run)", "baseline", "ratio", "note")


def cells(row: Row) -> tuple[str, ...]:
    return (
        row.name,
        number(row.value),
        row.unit,
        row.baseline or "—",
        number(row.baseline_value),
        ratio_text(row),
        ("FAIL " if not row.ok else "") + row.note,
    )


def table(rows: list[Row]) -> str:
    """A plain-text table whose columns line up in a terminal."""
    body = [HEADERS, *(cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(HEADERS))]
    numeric = {1, 4, 5}

    def line(values) -> str:
        return "  ".join(
            v.rjust(w) if i in numeric else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    return "\n".join([line(HEADERS), line(["-" * w for w in widths]), *(line(r) for r in body[1:])])


def markdown(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(" --- " for _ in HEADERS) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    memory_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def wrk_version() -> str:
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else ""


def write(rows: list[Row], *, folder: Path, extra: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"bench-{stamp}.json"
    data = {
        "finished_at": datetime.now(UTC).isoformat(),
        **extra,
        "rows": [asdict(row) | {"ratio": row.ratio} for row in rows],
    }
    path.write_text(json.dumps(data, indent=2, default=str))
    (folder / "latest.json").write_text(json.dumps(data, indent=2, default=str))
    return path
