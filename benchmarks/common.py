"""Helpers shared by the benchmark scripts in this folder.

- `load_workload()` imports the workload generator from `../shared/bench` (next to
  the repository), so every run regenerates the same tickets from the same seed.
- `sqlite_engine()` opens a SQLite file with the durability settings wenti uses by
  default (WAL journal, `synchronous=NORMAL`), for reference measurements.
- `reference_issues` is a plain table of the same shape as wenti's issue table, for
  SQLAlchemy Core reference inserts.
- `Timings`, `summarize()` and `machine_facts()` turn measurements into the JSON
  record and the printed table.

Benchmarks are scripts, not tests: run them with `python3 -m uv run python
benchmarks/<script>.py`. They write results under `benchmarks/results/`, which git
ignores.
"""

from __future__ import annotations

import contextlib
import cProfile
import datetime as dt
import gc
import importlib.util
import json
import os
import platform
import pstats
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import sqlalchemy
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCH = REPO_ROOT.parent / "shared" / "bench"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"

PRIORITY_RANK = {"critical": 1, "high": 2, "normal": 3, "low": 4}


# -- the workload --------------------------------------------------------------


def load_workload(folder: Path = SHARED_BENCH) -> ModuleType:
    """Import `workload.py` from `folder` by path and return the module.

    Exits with a message naming the missing file, because every benchmark needs
    the generator and nothing useful can run without it.
    """
    path = folder / "workload.py"
    if not path.is_file() or not (folder / "workload.json").is_file():
        raise SystemExit(
            f"benchmark workload not found: {path} (and workload.json beside it) must exist. "
            "The benchmarks read the shared workload generator from the folder `shared/bench` "
            "next to the repository checkout; copy or mount it there and run again."
        )
    spec = importlib.util.spec_from_file_location("wenti_bench_workload", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def utc_datetime(epoch_seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_seconds, tz=dt.timezone.utc)


def iso_utc(epoch_seconds: int) -> str:
    """Format epoch seconds as ISO 8601 with an explicit `+00:00` offset, as `wenti import` reads it."""
    return utc_datetime(epoch_seconds).isoformat()


# -- SQLite and the reference table --------------------------------------------


def sqlite_engine(path: Path, synchronous: str = "NORMAL") -> Engine:
    """Create an engine on the SQLite file `path` in WAL mode with the given `synchronous` level."""
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()

    return engine


def sqlite_pragmas(path: Path) -> dict[str, Any]:
    """Read back the journal mode of a SQLite file, to show what a run actually used."""
    connection = sqlite3.connect(path)
    try:
        return {"journal_mode": connection.execute("PRAGMA journal_mode").fetchone()[0]}
    finally:
        connection.close()


reference_metadata = MetaData()

# Same columns, unique constraints and indexes as wenti's issue table (plugins/sql), so
# a reference insert pays for the same index maintenance. Types are SQLAlchemy's
# standard ones, and the JSON columns hold the same empty lists and dicts.
reference_issues = Table(
    "reference_issues",
    reference_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(64), nullable=False),
    Column("queue", String(64), nullable=False),
    Column("title", String(500), nullable=False),
    Column("description", Text(), nullable=False),
    Column("reporter", String(64), nullable=False),
    Column("status", String(64), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("priority_rank", SmallInteger(), nullable=False),
    Column("category", String(200), nullable=True),
    Column("tags", JSON(), nullable=False),
    Column("custom_fields", JSON(), nullable=False),
    Column("assignee", String(64), nullable=True),
    Column("source", String(64), nullable=False),
    Column("external_id", String(255), nullable=True),
    Column("created_at", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    Column("version", Integer(), nullable=False),
    UniqueConstraint("tenant_id", "source", "external_id"),
    UniqueConstraint("tenant_id", "id"),
    Index("ix_reference_assignee_status_rank", "tenant_id", "assignee", "status", "priority_rank"),
    Index("ix_reference_category_status", "tenant_id", "category", "status"),
    Index("ix_reference_created_at", "tenant_id", "created_at"),
    Index("ix_reference_queue_status", "tenant_id", "queue", "status"),
)


def reference_row(ticket: dict[str, Any], tenant_id: str = "bench", queue: str = "bench") -> dict[str, Any]:
    """Build the insert parameters of one workload ticket for `reference_issues`."""
    created = utc_datetime(ticket["created_at"]).replace(tzinfo=None)
    return {
        "tenant_id": tenant_id,
        "queue": queue,
        "title": ticket["title"],
        "description": ticket["description"],
        "reporter": ticket["reporter"],
        "status": ticket["status"],
        "priority": ticket["priority"],
        "priority_rank": PRIORITY_RANK[ticket["priority"]],
        "category": ticket["category"],
        "tags": [],
        "custom_fields": {},
        "assignee": ticket["assignee"],
        "source": "workload",
        "external_id": str(ticket["id"]),
        "created_at": created,
        "updated_at": created,
        "version": 1,
    }


def insert_one_per_transaction(engine: Engine, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` into `reference_issues`, one row and one commit at a time."""
    statement = reference_issues.insert()
    for row in rows:
        with engine.begin() as connection:
            connection.execute(statement, row)


def insert_batched(engine: Engine, rows: Iterable[dict[str, Any]], batch_size: int) -> int:
    """Insert `rows` with one executemany and one commit per `batch_size` rows; return the count."""
    statement = reference_issues.insert()
    count = 0
    for batch in batched(rows, batch_size):
        with engine.begin() as connection:
            connection.execute(statement, batch)
        count += len(batch)
    return count


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- measuring -----------------------------------------------------------------


def repeat_timed(function: Callable[[], Any], repeats: int, warmup: int = 1) -> tuple[list[float], Any]:
    """Call `function` `warmup` times untimed, then `repeats` times timed.

    Returns the wall-clock seconds of each timed call and the last result, so the
    caller can check the result of the very call it timed.
    """
    result = None
    for _ in range(warmup):
        result = function()
    times = []
    gc.collect()
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


@contextlib.contextmanager
def profiled(profile_dir: Path | None, name: str) -> Iterator[None]:
    """Run the block under cProfile when `profile_dir` is set; write `<name>.prof` and `<name>.txt`."""
    if profile_dir is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profile_dir.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile_dir / f"{name}.prof")
        write_profile_summary(profile_dir / f"{name}.prof")


def write_profile_summary(stats_path: Path, lines: int = 45) -> Path:
    """Write the top functions of a cProfile file, by cumulative and by own time, beside it."""
    summary_path = stats_path.with_suffix(".txt")
    with open(summary_path, "w", encoding="utf-8") as handle:
        stats = pstats.Stats(str(stats_path), stream=handle)
        stats.sort_stats("cumulative").print_stats(lines)
        stats.sort_stats("tottime").print_stats(lines // 2)
    return summary_path


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the `fraction` quantile (0..1), interpolating linearly between the closest ranks."""
    if not values:
        raise ValueError("percentile of an empty list of timings; run at least one repetition")
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def summarize(times: Sequence[float]) -> dict[str, Any]:
    """Summarize timings in seconds as p50, p95, min, max and mean in milliseconds, with the number of runs."""
    return {
        "runs": len(times),
        "p50_ms": round(percentile(times, 0.50) * 1000, 3),
        "p95_ms": round(percentile(times, 0.95) * 1000, 3),
        "min_ms": round(min(times) * 1000, 3),
        "max_ms": round(max(times) * 1000, 3),
        "mean_ms": round(statistics.fmean(times) * 1000, 3),
    }


def rate(count: int, seconds: float, cpu_seconds: float | None = None) -> dict[str, Any]:
    """Describe `count` rows done in `seconds` of wall-clock time and, if given, `cpu_seconds` of CPU time."""
    measured: dict[str, Any] = {"rows": count, "seconds": round(seconds, 3), "per_second": round(count / seconds, 1) if seconds > 0 else None}
    if cpu_seconds is not None:
        measured["cpu_seconds"] = round(cpu_seconds, 3)
        measured["per_cpu_second"] = round(count / cpu_seconds, 1) if cpu_seconds > 0 else None
    return measured


def children_cpu_seconds() -> float:
    """Return the user plus system CPU time of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib(children: bool = False) -> float:
    """Return the peak resident memory of this process (or of its finished children) in MiB, in Linux units."""
    target = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return round(resource.getrusage(target).ru_maxrss / 1024.0, 1)


def compile_bytecode() -> dict[str, Any]:
    """Compile the environment's and the workspace's modules to bytecode, as `pip install` does.

    uv installs without compiling, and with PYTHONDONTWRITEBYTECODE set (as on the
    development machine) Python then compiles every module again at each start,
    which adds about two seconds to each `wenti` command. Benchmarks measure an
    installed wenti, so they compile first. Returns what was compiled and how long
    it took, for the results file.
    """
    import compileall
    import site
    import sysconfig

    folders = [Path(sysconfig.get_paths()["purelib"]), *(Path(folder) for folder in site.getsitepackages())]
    folders += sorted(REPO_ROOT.glob("core/src")) + sorted(REPO_ROOT.glob("plugins/*/src")) + sorted(REPO_ROOT.glob("contrib/*/src"))
    folders = list(dict.fromkeys(folder for folder in folders if folder.is_dir()))
    start = time.perf_counter()
    for folder in folders:
        compileall.compile_dir(folder, quiet=1, workers=0)
    return {"folders": [str(folder) for folder in folders], "seconds": round(time.perf_counter() - start, 1)}


def machine_facts() -> dict[str, Any]:
    """Collect the CPU, memory, Python, SQLite and library versions, and the commit measured."""
    facts: dict[str, Any] = {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_mib": _memory_mib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "git_commit": _git_commit(),
        "load_average_at_start": load_average(),
    }
    return facts


def load_average() -> list[float] | None:
    """Return the 1, 5 and 15 minute load averages, because other work on the machine skews timings."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_mib() -> int | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return None


def _git_commit() -> str | None:
    try:
        completed = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() or None


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, sort_keys=True, default=str)
        handle.write("\n")


def format_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Format rows as a Markdown table, readable in a terminal and pasteable into docs/benchmarks.md."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in cells)) if cells else len(str(h)) for i, h in enumerate(header)]
    lines = [
        "| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for row in cells:
        lines.append("| " + " | ".join(value.ljust(w) for value, w in zip(row, widths)) + " |")
    return "\n".join(lines)
