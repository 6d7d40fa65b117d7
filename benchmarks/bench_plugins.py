"""Measure the plugin platform: start-up cost and the overhead of calling hooks.

What it times, each in its own way:

- `load_config` of `examples/wenti.toml`, `load_plugins` with every plugin installed
  in the environment, and `validate_plugin_tables`, each in a fresh Python process
  (cold: imports included) and repeated inside one process (warm);
- each plugin's import and the registration hooks the loader calls for it, cold;
- one call through the typed facade for each kind of hook, with N no-op
  implementations registered, against calling the same N functions directly. The
  kinds are a cached registration look-up (`notifiers()`), a decision hook
  (`select_queue`), a validation hook (`validate_issue_change`) and an advisory
  hook (`classify_issue`).

Run:

    python3 -m uv run python benchmarks/bench_plugins.py --out benchmarks/results/plugins.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (the folder is put on sys.path just above)

from wenti import hookimpl  # noqa: E402
from wenti.config import Config, load_config  # noqa: E402
from wenti.domain import Issue, Role, User  # noqa: E402
from wenti.plugins import load_plugins  # noqa: E402
from wenti.records import Notifier  # noqa: E402
from wenti.testing import make_plugin_host  # noqa: E402

EXAMPLE = common.REPO_ROOT / "examples" / "wenti.toml"

COLD_SCRIPT = """
import os, time
os.environ.setdefault("WENTI_SMTP_PASSWORD", "benchmark")
started = time.perf_counter()
from wenti.config import load_config
from wenti.plugins import load_plugins
config = load_config({path!r})
loaded_config = time.perf_counter()
host = load_plugins(config, strict=True)
loaded_plugins = time.perf_counter()
config.validate_plugin_tables(host)
validated = time.perf_counter()
print(loaded_config - started, loaded_plugins - loaded_config, validated - loaded_plugins, len(host.statuses))
"""


def cold_start(runs: int) -> dict[str, Any]:
    """Time config, plugin loading and validation in fresh processes (imports included)."""
    columns: dict[str, list[float]] = {"load_config": [], "load_plugins": [], "validate_plugin_tables": []}
    plugin_count = 0
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", COLD_SCRIPT.format(path=str(EXAMPLE))],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.split()
        for name, value in zip(columns, output[:3], strict=True):
            columns[name].append(float(value))
        plugin_count = int(output[3])
    return {"plugins": plugin_count, **{name: common.summarize(times) for name, times in columns.items()}}


PER_PLUGIN_SCRIPT = """
import importlib.metadata, json, time
import wenti.plugins
from wenti.plugins import PluginHost, _claim_names, new_plugin_manager
host = PluginHost(new_plugin_manager())
owners = {}
timings = {}
for entry_point in sorted(importlib.metadata.entry_points(group="wenti"), key=lambda ep: ep.name):
    started = time.perf_counter()
    module = entry_point.load()
    imported = time.perf_counter()
    host.pm.register(module, entry_point.name)
    _claim_names(host, module, entry_point.name, owners)
    timings[entry_point.name] = [imported - started, time.perf_counter() - imported]
print(json.dumps(timings))
"""


def per_plugin(runs: int) -> dict[str, Any]:
    """Time each plugin's import and its load-time registration calls, in fresh processes.

    Plugins load in name order, so a module that one plugin imports first is
    counted there and is free for the plugins after it.
    """
    samples: dict[str, list[list[float]]] = {}
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", PER_PLUGIN_SCRIPT], capture_output=True, text=True, check=True, timeout=120
        ).stdout
        for name, pair in json.loads(output).items():
            samples.setdefault(name, []).append(pair)
    return {
        name: {
            "import_ms": round(statistics.median(pair[0] for pair in pairs) * 1000, 1),
            "registration_ms": round(statistics.median(pair[1] for pair in pairs) * 1000, 1),
        }
        for name, pairs in samples.items()
    }


def warm_start(repeats: int) -> dict[str, Any]:
    """Time the same steps again inside one process, with every module imported."""
    os.environ.setdefault("WENTI_SMTP_PASSWORD", "benchmark")
    config_times, _ = common.repeat_timed(lambda: load_config(EXAMPLE), repeats)
    config = load_config(EXAMPLE)
    plugin_times, host = common.repeat_timed(lambda: load_plugins(config, strict=True), repeats)
    validate_times, _ = common.repeat_timed(lambda: config.validate_plugin_tables(host), repeats)
    return {
        "plugins": len(host.statuses),
        "load_config": common.summarize(config_times),
        "load_plugins": common.summarize(plugin_times),
        "validate_plugin_tables": common.summarize(validate_times),
    }


def _noop_plugin(index: int) -> types.SimpleNamespace:
    def register_notifiers() -> list[Notifier]:
        return [Notifier(name=f"channel_{index}", send=lambda message, app: None)]

    def select_queue(issue: Any) -> None:
        return None

    def validate_issue_change(issue: Any, action: str) -> list[str]:
        return []

    def classify_issue(issue: Any) -> list[Any]:
        return []

    functions = {
        "register_notifiers": register_notifiers,
        "select_queue": select_queue,
        "validate_issue_change": validate_issue_change,
        "classify_issue": classify_issue,
    }
    return types.SimpleNamespace(**{name: hookimpl(function) for name, function in functions.items()})


def hook_overhead(plugin_count: int, repeats: int, calls: int) -> dict[str, Any]:
    """Time one facade call per hook kind against calling the implementations directly."""
    plugins = [_noop_plugin(index) for index in range(plugin_count)]
    host = make_plugin_host(*[(plugin, f"bench_{index}") for index, plugin in enumerate(plugins)])
    hooks = host.hooks
    issue = Issue(tenant_id="bench", queue="", title="打印机卡纸", reporter="r", status="new")
    actor = User("bench", "agent", "agent", Role.AGENT)
    app = object()

    cases = {
        "notifiers (cached registration)": (
            hooks.notifiers,
            lambda: [Notifier(name="x", send=None) for _plugin in plugins],
        ),
        "select_queue (decision)": (
            lambda: hooks.select_queue(issue, app),
            lambda: [plugin.select_queue(issue) for plugin in plugins],
        ),
        "validate_issue_change (validation)": (
            lambda: hooks.validate_issue_change(issue, None, actor, "create", app),
            lambda: [plugin.validate_issue_change(issue, "create") for plugin in plugins],
        ),
        "classify_issue (advisory)": (
            lambda: hooks.classify_issue(issue, app),
            lambda: [plugin.classify_issue(issue) for plugin in plugins],
        ),
    }

    results = {}
    for name, (through_facade, direct) in cases.items():
        results[name] = {
            "facade_us": _per_call_microseconds(through_facade, repeats, calls),
            "direct_us": _per_call_microseconds(direct, repeats, calls),
        }
    return {"implementations": plugin_count, "calls_per_sample": calls, "cases": results}


def _per_call_microseconds(function: Any, repeats: int, calls: int) -> dict[str, float]:
    function()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            function()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return {"median": round(statistics.median(samples), 2), "min": round(min(samples), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes for the cold start (default 5)")
    parser.add_argument("--repeats", type=int, default=20, help="timed repeats of each warm measurement (default 20)")
    parser.add_argument("--calls", type=int, default=2000, help="hook calls per timed sample (default 2000)")
    parser.add_argument(
        "--implementations", default="1,10", help="no-op implementations per hook, comma-separated (default 1,10)"
    )
    parser.add_argument("--out", type=Path, help="write the JSON record here")
    args = parser.parse_args()

    record: dict[str, Any] = {"machine": common.machine_facts()}
    record["cold_start"] = cold_start(args.cold_runs)
    record["per_plugin_cold"] = per_plugin(args.cold_runs)
    record["warm_start"] = warm_start(args.repeats)
    record["hook_overhead"] = [
        hook_overhead(int(count), args.repeats, args.calls) for count in args.implementations.split(",")
    ]

    print(json.dumps(record, indent=2, ensure_ascii=False))
    if args.out is not None:
        common.write_json(args.out, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
