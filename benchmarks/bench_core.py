"""Core benchmark: bulk import, one-by-one create and list queries on SQLite.

For each size N it regenerates the shared workload (`../shared/bench/workload.py`)
and measures, in one run and with the same rows:

1. SQLAlchemy Core batched insert of all N rows (executemany, one transaction per
   batch, the import's batch size) into a table of the same shape as wenti's issue
   table: the reference for bulk import.
2. `wenti import` of the same N rows from a JSON Lines file with a mapping TOML,
   run as a subprocess and timed end to end (interpreter start, plugin loading,
   reading the file, mapping, writing issues, history events, audit and outbox rows).
3. SQLAlchemy Core single-row insert, one row per transaction, for the first
   `--sample` rows: the reference for one-by-one create.
4. `app.issues.create(ctx, ...)` for the same sample rows, one issue per
   transaction with its history event, audit row and outbox rows. Steps 3 and 4
   take turns in blocks of 500 rows, so other load on the machine hits both alike.

Outbox rows are written once per event and per loaded plugin that implements the
`issue_event` hook: none with the default `--plugins sql`, one per event with
`--plugins sql,notify`. The command line delivers pending outbox rows before it
exits, so with notify the import's time includes delivering one message per issue.
5. The workload's update step on the imported database through the service layer:
   for 10 % of the ids, `app.issues.get` then `app.issues.transition` to the new
   status with the new assignee, one transaction per issue.
6. The list queries q1, q2 and q3 through the service layer (`IssueQuery`),
   repeated `--repeats` times after one warm-up call, with their results checked
   against `Workload.expected()`.

Every database is a SQLite file in WAL mode with `synchronous=NORMAL`. Usage:

    python3 -m uv run python benchmarks/bench_core.py \\
        --sizes 100000,1000000 --sample 10000 --out benchmarks/results/core.json

Exits with status 1 when a query result differs from the expected one, after writing
the results.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402  (the folder is put on sys.path just above)
    REPO_ROOT,
    children_cpu_seconds,
    compile_bytecode,
    format_table,
    insert_batched,
    insert_one_per_transaction,
    iso_utc,
    load_average,
    load_workload,
    machine_facts,
    peak_rss_mib,
    profiled,
    rate,
    reference_metadata,
    reference_row,
    repeat_timed,
    sqlite_engine,
    sqlite_pragmas,
    summarize,
    utc_datetime,
    write_json,
    write_profile_summary,
)

TENANT = "bench"
QUEUE = "bench"
SOURCE = "workload"
WORKFLOW = "bench"

# Targets: the create and import rates as ratios to the SQLAlchemy Core reference of
# the same run, and the p95 latency of each list query at 1,000,000 issues.
CREATE_RATIO_TARGET = 0.3
IMPORT_RATIO_TARGET = 0.5
QUERY_P95_TARGET_MS = 20.0
QUERY_TARGET_SIZE = 1_000_000

# Rows per block when create and its Core reference take turns on the sample.
INTERLEAVE_BLOCK = 500

# Seconds to create 10,000 tickets through each tracker's own Python API on SQLite,
# measured on a 2-core machine with Python 3.11 and SQLite 3.40; quoted for scale.
PEER_FIGURES = {
    "trac_1_6_seconds_per_10000": 10,
    "roundup_2_6_seconds_per_10000": 35,
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workload_module = load_workload()
    record: dict[str, Any] = {
        "benchmark": "core",
        "command": "python3 -m uv run python benchmarks/bench_core.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "settings": {
            "sample": args.sample,
            "repeats": args.repeats,
            "batch_size": args.batch_size,
            "plugins": args.plugins,
            "profiled": args.profile is not None,
            "sqlite": "journal_mode=WAL, synchronous=NORMAL",
        },
        "targets": {
            "create_vs_core_single": CREATE_RATIO_TARGET,
            "import_vs_core_batch": IMPORT_RATIO_TARGET,
            "query_p95_ms_at_1m": QUERY_P95_TARGET_MS,
        },
        "peers": PEER_FIGURES,
        "sizes": {},
    }
    record["settings"]["bytecode"] = compile_bytecode()
    print(f"machine: {record['machine']['cpu_model']}, {record['machine']['cpu_count']} cores, "
          f"Python {record['machine']['python']}, SQLite {record['machine']['sqlite']}", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="wenti-bench-core-", dir=args.workdir))
    failed = False
    try:
        for size in args.sizes:
            print(f"\n== N = {size:,} ==", flush=True)
            result = run_size(workload_module, size, args, workdir / f"n{size}")
            record["sizes"][str(size)] = result
            failed |= not all(check["ok"] for check in result["checks"].values())
            record["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            record["peak_rss_mib"] = {"benchmark": peak_rss_mib(), "subprocesses": peak_rss_mib(children=True)}
            write_json(args.out, record)
    finally:
        if args.keep:
            print(f"kept the databases in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(results_table(record))
    print(f"\nwrote {args.out}")
    if failed:
        print("FAILED: at least one query answer did not match Workload.expected(); see 'checks' in the results.")
        return 1
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", type=parse_sizes,
                        help="comma-separated numbers of issues, one full run each (default: 100000,1000000)")
    parser.add_argument("--sample", default=10_000, type=positive_int,
                        help="rows created one per transaction, for create and the Core single insert (default: 10000)")
    parser.add_argument("--repeats", default=30, type=positive_int,
                        help="timed repetitions of each list query after one warm-up call (default: 30)")
    parser.add_argument("--batch-size", default=None, type=positive_int,
                        help="rows per transaction of the Core batched insert (default: the batch size of wenti import)")
    parser.add_argument("--plugins", default="sql", type=parse_plugins,
                        help="plugins the wenti instances load, comma-separated (default: sql). Each history "
                             "event gets one outbox row per loaded plugin that implements issue_event, such as notify")
    parser.add_argument("--out", default=REPO_ROOT / "benchmarks" / "results" / "core.json", type=Path,
                        help="JSON file the results are written to (default: benchmarks/results/core.json)")
    parser.add_argument("--workdir", default=None, type=Path,
                        help="folder for the temporary databases and import files (default: the system temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the databases and import files after the run")
    parser.add_argument("--profile", default=None, type=Path, metavar="DIR",
                        help="run import, create and the update step under cProfile and write the statistics to DIR; "
                             "profiling slows them down, so use it to find hot spots, not to record figures")
    args = parser.parse_args(argv)

    if args.batch_size is None:
        from wenti.importing.runner import BATCH_SIZE

        args.batch_size = BATCH_SIZE
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    return args


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid --sizes {text!r}: expected whole numbers separated by commas, e.g. 100000,1000000") from None
    if not sizes or any(size < 100 for size in sizes):
        raise argparse.ArgumentTypeError(f"invalid --sizes {text!r}: each size must be at least 100 issues")
    return sizes


def parse_plugins(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if "sql" not in names:
        raise argparse.ArgumentTypeError(f"invalid --plugins {text!r}: the list must include sql, the storage backend")
    return names


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected 1 or more")
    return value


# -- one size ------------------------------------------------------------------


def run_size(workload_module: Any, size: int, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True)
    workload = workload_module.Workload(size)
    result: dict[str, Any] = {"n": size, "checks": {}}

    start = time.perf_counter()
    jsonl_path, mapping_path = write_import_files(workload, folder)
    result["generate"] = {"seconds": round(time.perf_counter() - start, 3), "jsonl_mib": round(jsonl_path.stat().st_size / 2**20, 1)}
    print(f"  generated {size:,} rows as JSON Lines in {result['generate']['seconds']:.1f} s", flush=True)

    result["core_batch"] = measure_core_batch(jsonl_path, folder / "core_batch.sqlite", args.batch_size)
    show("Core insert, batched", result["core_batch"])

    result["import_startup"] = measure_import_startup(folder, jsonl_path, mapping_path, workload, args)
    print(f"  wenti import of 1 row (start-up cost)  {result['import_startup']['seconds']:>9.2f} s", flush=True)

    instance = folder / "import"
    setup_instance(instance, workload, args.plugins)
    profile_dir = args.profile / f"n{size}" if args.profile is not None else None
    result["import"] = measure_import(instance, jsonl_path, mapping_path, size, args.batch_size, result["checks"], profile_dir)
    show("wenti import", result["import"])

    sample = [jsonl_record(workload.ticket(i)) for i in range(1, min(args.sample, size) + 1)]
    setup_instance(folder / "create", workload, args.plugins)
    result["create"], result["core_single"] = measure_one_per_transaction(folder, sample, result["checks"], profile_dir)
    show("Core insert, one per transaction", result["core_single"])
    show("app.issues.create", result["create"])

    app, ctx = open_app(instance)
    try:
        with profiled(profile_dir, "update"):
            result["update"] = apply_updates(app, ctx, workload, result["checks"])
        show("update (get + transition)", result["update"])

        start = time.perf_counter()
        expected = workload.expected()
        print(f"  computed the expected answers in {time.perf_counter() - start:.1f} s", flush=True)
        result["queries"] = measure_queries(app, ctx, workload_module, workload, expected, args.repeats, result["checks"])
    finally:
        app.close()

    result["ratios"] = {
        "create_vs_core_single": round(result["create"]["per_second"] / result["core_single"]["per_second"], 3),
        "import_vs_core_batch": round(result["import"]["per_second"] / result["core_batch"]["per_second"], 3),
    }
    # The same ratios in CPU time, which other load on the machine distorts less than wall-clock time.
    result["cpu_ratios"] = {
        "create_vs_core_single": round(result["create"]["per_cpu_second"] / result["core_single"]["per_cpu_second"], 3),
        "import_vs_core_batch": round(result["import"]["per_cpu_second"] / result["core_batch"]["per_cpu_second"], 3),
    }
    result["database_mib"] = round(database_size(instance) / 2**20, 1)
    result["load_average_at_end"] = load_average()
    return result


def show(label: str, measured: dict[str, Any]) -> None:
    print(f"  {label:<34} {measured['rows']:>9,} rows {measured['seconds']:>9.2f} s {measured['per_second']:>10,.0f}/s", flush=True)


# -- the workload as import files ----------------------------------------------


MAPPING_TOML = f"""\
# Maps the benchmark workload's JSON Lines records to issue fields.
queue = "{QUEUE}"

[source]
format = "jsonl"
encoding = "utf-8"
timezone = "UTC"
external_id = "id"
name = "{SOURCE}"

[fields]
title = "title"
description = "description"
priority = "priority"
category = "category"
status = "status"
assignee = "assignee"
reporter = "reporter"
created_at = "created_at"
"""


def jsonl_record(ticket: dict[str, Any]) -> dict[str, Any]:
    """Convert a workload ticket to one JSON Lines record, with `created_at` as ISO 8601 UTC."""
    record = dict(ticket)
    record["created_at"] = iso_utc(ticket["created_at"])
    return record


def write_import_files(workload: Any, folder: Path) -> tuple[Path, Path]:
    """Stream the workload into `tickets.jsonl` and write `mapping.toml` beside it."""
    jsonl_path = folder / "tickets.jsonl"
    with open(jsonl_path, "w", encoding="utf-8") as handle:
        for ticket in workload.tickets():
            handle.write(json.dumps(jsonl_record(ticket), ensure_ascii=False))
            handle.write("\n")
    mapping_path = folder / "mapping.toml"
    mapping_path.write_text(MAPPING_TOML, encoding="utf-8")
    return jsonl_path, mapping_path


def read_jsonl(path: Path):
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


# -- SQLAlchemy Core references ------------------------------------------------


def reference_parameters(record: dict[str, Any]) -> dict[str, Any]:
    """Insert parameters of one JSON Lines record, parsing the time as the import does."""
    created = dt.datetime.fromisoformat(record["created_at"])
    ticket = dict(record, created_at=int(created.timestamp()))
    return reference_row(ticket, tenant_id=TENANT, queue=QUEUE)


def measure_core_batch(jsonl_path: Path, database: Path, batch_size: int) -> dict[str, Any]:
    """Time reading the JSON Lines file and inserting it with executemany per batch."""
    engine = sqlite_engine(database)
    reference_metadata.create_all(engine)
    start, cpu_start = time.perf_counter(), time.process_time()
    count = insert_batched(engine, (reference_parameters(record) for record in read_jsonl(jsonl_path)), batch_size)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    engine.dispose()
    measured = rate(count, seconds, cpu_seconds)
    measured.update(batch_size=batch_size, sqlite=sqlite_pragmas(database))
    return measured


# -- wenti instances -----------------------------------------------------------


def config_text(folder: Path, plugins: list[str]) -> str:
    database = folder / "wenti.db"
    return (
        "# A wenti instance for one benchmark step.\n"
        "[instance]\n"
        'name = "bench"\n'
        'locale = "en"\n'
        'timezone = "UTC"\n'
        f"data_dir = {json.dumps(str(folder))}\n\n"
        "[storage]\n"
        f"url = {json.dumps('sqlite:///' + str(database))}\n"
        'sqlite_synchronous = "NORMAL"\n\n'
        "[plugins]\n"
        f"enabled = {json.dumps(plugins)}\n"
        "strict = true\n"
    )


def bench_workflow(workload: Any) -> Any:
    """Build a workflow whose states are the workload's statuses, each reachable from any state."""
    from wenti.domain import Role, State, StateCategory, Transition, Workflow

    closed_categories = {"resolved": StateCategory.RESOLVED, "closed": StateCategory.CLOSED}
    states = []
    for key in workload.statuses:
        category = StateCategory.OPEN if key in workload.open_statuses else closed_categories[key]
        states.append(State(key, key.replace("_", " ").capitalize(), category))
    agents = (Role.AGENT, Role.QUEUE_MANAGER, Role.ADMIN)
    transitions = tuple(Transition(f"to_{key}", f"To {key}", "*", key, agents) for key in workload.statuses)
    return Workflow(WORKFLOW, "Benchmark workflow", tuple(states), transitions, initial_state=workload.statuses[0])


def setup_instance(folder: Path, workload: Any, plugins: list[str]) -> None:
    """Create an instance: tenant, the benchmark workflow and queue, agents and reporters."""
    from wenti.domain import Role

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wenti.toml").write_text(config_text(folder, plugins), encoding="utf-8")

    from wenti.app import App

    app = App.create(folder / "wenti.toml")
    try:
        app.admin.ensure_tenant(TENANT, "Benchmark", locale="en", timezone="UTC", admin_username=workload.update_author, default_queue=None)
        ctx = app.context(TENANT, workload.update_author)
        app.admin.put_workflow(ctx, bench_workflow(workload))
        app.admin.create_queue(ctx, QUEUE, "Benchmark", workflow_key=WORKFLOW, categories=workload.categories)
        for username in workload.assignees:
            app.admin.create_user(ctx, username, username, Role.AGENT)
        for username in workload.reporters:
            app.admin.create_user(ctx, username, username, Role.REPORTER)
    finally:
        app.close()


def open_app(folder: Path) -> tuple[Any, Any]:
    from wenti.app import App

    app = App.create(folder / "wenti.toml")
    return app, app.context(TENANT, "bench-bot")


def database_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.glob("wenti.db*"))


# -- wenti measurements --------------------------------------------------------


def measure_import_startup(folder: Path, jsonl_path: Path, mapping_path: Path, workload: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Time `wenti import` of a one-row file: interpreter start, plugin loading and schema check."""
    instance = folder / "startup"
    setup_instance(instance, workload, args.plugins)
    one_row = folder / "one_row.jsonl"
    with open(jsonl_path, encoding="utf-8") as source:
        one_row.write_text(source.readline(), encoding="utf-8")
    checks: dict[str, Any] = {}
    measured = measure_import(instance, one_row, mapping_path, 1, args.batch_size, checks, None)
    if not checks["import_count"]["ok"]:
        raise SystemExit(f"wenti import of one row stored {checks['import_count']['detail']['stored']} issues instead of 1")
    return {"seconds": measured["seconds"]}


def wenti_command() -> str:
    """Return the path of the `wenti` console script of the environment running this benchmark."""
    script = Path(sys.executable).with_name("wenti")
    if not script.is_file():
        raise SystemExit(f"the wenti command is missing: {script} does not exist. Run `python3 -m uv sync` first.")
    return str(script)


def measure_import(
    folder: Path, jsonl_path: Path, mapping_path: Path, size: int, batch_size: int, checks: dict[str, Any], profile_dir: Path | None
) -> dict[str, Any]:
    """Run `wenti import` as a subprocess and time it from start to exit."""
    prefix = [wenti_command()]
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        prefix = [sys.executable, "-m", "cProfile", "-o", str(profile_dir / "import.prof"), *prefix]
    command = [
        *prefix,
        "--config", str(folder / "wenti.toml"), "--tenant", TENANT, "--as", "bench-bot", "--lang", "en",
        "import", str(jsonl_path), "--mapping", str(mapping_path), "--batch-size", str(batch_size),
    ]
    environment = dict(os.environ, WENTI_LOG_LEVEL="WARNING")
    start, cpu_start = time.perf_counter(), children_cpu_seconds()
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    seconds, cpu_seconds = time.perf_counter() - start, children_cpu_seconds() - cpu_start
    if completed.returncode != 0:
        raise SystemExit(
            f"wenti import failed with exit status {completed.returncode}: {' '.join(command)}\n"
            f"stdout:\n{completed.stdout[-4000:]}\nstderr:\n{completed.stderr[-4000:]}"
        )

    app, ctx = open_app(folder)
    try:
        from wenti.store import IssueQuery

        stored = app.issues.count(ctx, IssueQuery())
    finally:
        app.close()
    check(checks, "import_count", stored == size, {"stored": stored, "rows": size})
    if profile_dir is not None:
        write_profile_summary(profile_dir / "import.prof")

    measured = rate(size, seconds, cpu_seconds)
    measured.update(command=" ".join(command[1:]), output=completed.stdout.strip()[-2000:])
    return measured


def measure_one_per_transaction(
    folder: Path, sample: list[dict[str, Any]], checks: dict[str, Any], profile_dir: Path | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Time `app.issues.create` and the Core single-row insert on the same sample rows.

    Both write one row (wenti: one issue with its history) per transaction. They run
    in alternating blocks of `INTERLEAVE_BLOCK` rows, so load from other work on the
    machine slows both alike and the ratio stays fair. Returns (create, core single).
    """
    engine = sqlite_engine(folder / "core_single.sqlite")
    reference_metadata.create_all(engine)
    reference_rows = [reference_parameters(record) for record in sample]
    arguments = [create_arguments(record) for record in sample]

    # One profile across the create blocks only, so the Core blocks stay out of it.
    profiler = cProfile.Profile() if profile_dir is not None else None
    app, ctx = open_app(folder / "create")
    try:
        create = app.issues.create
        create_seconds = core_seconds = create_cpu = core_cpu = 0.0
        for start in range(0, len(sample), INTERLEAVE_BLOCK):
            block = slice(start, start + INTERLEAVE_BLOCK)

            began, cpu_began = time.perf_counter(), time.process_time()
            insert_one_per_transaction(engine, reference_rows[block])
            core_seconds += time.perf_counter() - began
            core_cpu += time.process_time() - cpu_began

            began, cpu_began = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            for kwargs in arguments[block]:
                create(ctx, **kwargs)
            if profiler is not None:
                profiler.disable()
            create_seconds += time.perf_counter() - began
            create_cpu += time.process_time() - cpu_began
        rows = count_rows(app, ctx)
    finally:
        app.close()
        engine.dispose()

    if profiler is not None and profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile_dir / "create.prof")
        write_profile_summary(profile_dir / "create.prof")

    check(checks, "create_count", rows["issues"] == len(sample), rows)
    check(checks, "create_history", rows["events"] == len(sample), rows)
    created = rate(len(sample), create_seconds, create_cpu)
    created["rows_written"] = rows
    created["interleave_block"] = INTERLEAVE_BLOCK
    return created, rate(len(sample), core_seconds, core_cpu)


def create_arguments(record: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of `app.issues.create` for one record, as a web form would send them."""
    return {
        "queue": QUEUE,
        "title": record["title"],
        "description": record["description"],
        "priority": record["priority"],
        "category": record["category"],
        "assignee": record["assignee"],
        "reporter": record["reporter"],
    }


def count_rows(app: Any, ctx: Any) -> dict[str, int]:
    """Row counts of the issue, history, audit and outbox tables of the tenant.

    NOTE: reads wenti-sql's table names through `sql_connection()`, so this check
    only works on the SQL store.
    """
    from sqlalchemy import text

    tables = {"issues": "wenti_issues", "events": "wenti_events", "audit": "wenti_audit", "outbox": "wenti_outbox"}
    counts = {}
    with app.uow(ctx.tenant_id) as uow:
        connection = uow.sql_connection()
        for name, table in tables.items():
            counts[name] = connection.execute(text(f"SELECT COUNT(*) FROM {table} WHERE tenant_id = :tenant"), {"tenant": ctx.tenant_id}).scalar_one()
    return counts


def apply_updates(app: Any, ctx: Any, workload: Any, checks: dict[str, Any]) -> dict[str, Any]:
    """Give 10 % of the issues a new status and assignee through the service layer.

    The import stores ticket i as issue i, because it writes the file's rows in order
    into a fresh database. Each update reads the issue first and exits with an error
    when its external id shows otherwise.
    """
    # Generated before the clock starts: the generator rebuilds each ticket to pick its update.
    updates = list(workload.updates())
    get = app.issues.get
    transition = app.issues.transition
    count = 0
    start = time.perf_counter()
    for update in updates:
        issue = get(ctx, update["id"])
        if issue.external_id != str(update["id"]):
            raise SystemExit(
                f"issue {issue.id} has external id {issue.external_id!r}, expected {update['id']}: "
                "the import did not store ticket i as issue i, so the update step cannot address the tickets"
            )
        transition(ctx, issue.id, issue.version, update["status"], fields={"assignee": update["assignee"]})
        count += 1
    seconds = time.perf_counter() - start
    check(checks, "update_count", count == len(workload.update_ids), {"updated": count, "expected": len(workload.update_ids)})
    measured = rate(count, seconds)
    measured["path"] = "service layer: app.issues.get + app.issues.transition(fields={'assignee': ...})"
    return measured


def measure_queries(
    app: Any, ctx: Any, workload_module: Any, workload: Any, expected: dict[str, Any], repeats: int, checks: dict[str, Any]
) -> dict[str, Any]:
    """Time q1, q2 and q3 through the service layer and check each result.

    The workload's own `check_q1`, `check_q2` and `check_q3` judge the results; the
    q1 total and the q3 page are checked here as well.
    """
    from wenti.store import IssueQuery

    q1_query = IssueQuery(assignee=(workload.q1_assignee,), status_category=("open",), sort=("priority",), limit=workload.q1_page)
    q3_start, q3_end = utc_datetime(workload.q3_start), utc_datetime(workload.q3_end)
    q3_query = IssueQuery(created_from=q3_start, created_to=q3_end, sort=("created_at",), limit=50)

    def q1() -> Any:
        return app.issues.list(ctx, q1_query)

    def q2() -> Any:
        return app.issues.count_by(ctx, ("category", "status"), IssueQuery())

    def q3() -> Any:
        return app.issues.count(ctx, q3_query), app.issues.list(ctx, q3_query)

    results = {}
    recorder = CheckRecorder(checks)

    times, page = repeat_timed(q1, repeats)
    results["q1"] = summarize(times)
    workload_module.check_q1(recorder, workload, expected, [(issue.id, issue.priority.value) for issue in page.items])
    total = app.issues.count(ctx, q1_query)
    check(checks, "q1_total", total == expected["q1_total"], {"got": total, "want": expected["q1_total"]})

    times, counts = repeat_timed(q2, repeats)
    results["q2"] = summarize(times)
    workload_module.check_q2(recorder, expected, {tuple(key): value for key, value in counts.items()})

    times, (q3_count, q3_page) = repeat_timed(q3, repeats)
    results["q3"] = summarize(times)
    workload_module.check_q3(recorder, expected, q3_count)
    created = [issue.created_at for issue in q3_page.items]
    in_month = all(q3_start <= value < q3_end for value in created)
    check(checks, "q3_page", len(created) == min(50, expected["q3"]) and in_month and created == sorted(created),
          {"page": len(created), "in_month": in_month})

    for name, summary in results.items():
        print(f"  {name}  p50 {summary['p50_ms']:8.2f} ms   p95 {summary['p95_ms']:8.2f} ms   ({summary['runs']} runs)", flush=True)
    return results


class CheckRecorder:
    """Receives the results of the workload's check helpers, which call `check(name, ok, detail)`."""

    def __init__(self, checks: dict[str, Any]) -> None:
        self.checks = checks

    def check(self, name: str, ok: bool, detail: Any = None) -> None:
        check(self.checks, name, ok, detail)


def check(checks: dict[str, Any], name: str, ok: bool, detail: Any) -> None:
    checks[name] = {"ok": bool(ok), "detail": detail}
    if not ok:
        print(f"  CHECK FAILED {name}: {detail}", flush=True)


# -- the printed summary -------------------------------------------------------


def results_table(record: dict[str, Any]) -> str:
    header = ["N", "step", "rows", "seconds", "rows/s", "vs reference", "target", "met", "CPU-time ratio"]
    rows = []
    for size, result in record["sizes"].items():
        n = f"{int(size):,}"
        ratios, cpu_ratios = result["ratios"], result["cpu_ratios"]
        for label, key, ratio, target in (
            ("Core batched insert (reference)", "core_batch", None, None),
            ("wenti import", "import", ratios["import_vs_core_batch"], IMPORT_RATIO_TARGET),
            ("Core single insert (reference)", "core_single", None, None),
            ("app.issues.create", "create", ratios["create_vs_core_single"], CREATE_RATIO_TARGET),
            ("update: get + transition", "update", None, None),
        ):
            measured = result[key]
            row = [n, label, f"{measured['rows']:,}", f"{measured['seconds']:.2f}", f"{measured['per_second']:,.0f}", "", "", "", ""]
            if ratio is not None:
                cpu_ratio = cpu_ratios["import_vs_core_batch" if key == "import" else "create_vs_core_single"]
                row[5:] = [f"{ratio:.2f}×", f"≥ {target}×", yes_no(ratio >= target), f"{cpu_ratio:.2f}×"]
            rows.append(row)
            if key == "import":
                rows.append([n, "wenti import of 1 row (start-up)", "1", f"{result['import_startup']['seconds']:.2f}", "", "", "", "", ""])

        for name in ("q1", "q2", "q3"):
            summary = result["queries"][name]
            row = [n, f"{name} p50 / p95 ms", "", f"{summary['p50_ms']:.2f} / {summary['p95_ms']:.2f}", "", "", "", "", ""]
            if int(size) >= QUERY_TARGET_SIZE:
                row[6:8] = [f"p95 ≤ {QUERY_P95_TARGET_MS:g} ms", yes_no(summary["p95_ms"] <= QUERY_P95_TARGET_MS)]
            rows.append(row)
    return format_table(header, rows)


def yes_no(met: bool) -> str:
    return "yes" if met else "no"


if __name__ == "__main__":
    sys.exit(main())
