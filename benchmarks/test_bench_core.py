"""Checks of the benchmark helpers and a small end-to-end run of bench_core.py.

Not collected by the root test run (benchmarks/ is outside `testpaths`); run with
`python3 -m uv run pytest benchmarks -q`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402  (the folder is put on sys.path just above)

needs_workload = pytest.mark.skipif(
    not (common.SHARED_BENCH / "workload.py").is_file(),
    reason=f"the shared workload generator {common.SHARED_BENCH / 'workload.py'} is not present",
)


def test_percentile_interpolates():
    values = [0.004, 0.001, 0.003, 0.002, 0.005]

    assert common.percentile(values, 0.0) == 0.001
    assert common.percentile(values, 0.5) == 0.003
    assert common.percentile(values, 1.0) == 0.005
    assert common.percentile(values, 0.95) == pytest.approx(0.0048)


def test_percentile_rejects_empty_list():
    with pytest.raises(ValueError, match="empty"):
        common.percentile([], 0.5)


def test_summarize_reports_milliseconds():
    summary = common.summarize([0.010] * 19 + [0.030])

    assert summary["runs"] == 20
    assert summary["p50_ms"] == 10.0
    assert summary["p95_ms"] == pytest.approx(11.0)
    assert summary["max_ms"] == 30.0


def test_batched_keeps_remainder():
    batches = list(common.batched(range(7), 3))

    assert batches == [[0, 1, 2], [3, 4, 5], [6]]


def test_format_table_aligns_columns():
    table = common.format_table(["step", "rows/s"], [["import", "1,234"], ["create", "56"]])
    lines = table.splitlines()

    assert lines[0] == "| step   | rows/s |"
    assert lines[1] == "|--------|--------|"
    assert lines[3] == "| create | 56     |"


def test_machine_facts_name_versions():
    facts = common.machine_facts()

    assert facts["cpu_count"] >= 1
    assert facts["sqlite"].count(".") == 2
    assert facts["python"].startswith("3.")


def test_load_workload_missing_folder(tmp_path):
    with pytest.raises(SystemExit, match="workload.py"):
        common.load_workload(tmp_path)


def test_reference_inserts_use_wal(tmp_path):
    database = tmp_path / "reference.sqlite"
    engine = common.sqlite_engine(database)
    common.reference_metadata.create_all(engine)
    ticket = {
        "id": 7, "title": "打印机卡纸", "description": "上海门店打印机卡纸。", "category": "hardware",
        "priority": "high", "assignee": "agent07", "status": "new", "reporter": "customer001",
        "created_at": 1735689600,
    }
    rows = [common.reference_row(dict(ticket, id=i)) for i in range(1, 6)]

    common.insert_one_per_transaction(engine, rows[:2])
    inserted = common.insert_batched(engine, rows[2:], batch_size=2)
    with engine.connect() as connection:
        stored = connection.execute(common.reference_issues.select().order_by(common.reference_issues.c.id)).all()
    engine.dispose()

    assert inserted == 3
    assert [row.external_id for row in stored] == ["1", "2", "3", "4", "5"]
    assert stored[0].priority_rank == 2
    assert stored[0].created_at.isoformat() == "2025-01-01T00:00:00"
    assert common.sqlite_pragmas(database)["journal_mode"] == "wal"


@needs_workload
def test_bench_core_small_run(tmp_path):
    out = tmp_path / "core.json"
    command = [
        sys.executable, str(HERE / "bench_core.py"),
        "--sizes", "1000", "--sample", "100", "--repeats", "3", "--out", str(out), "--workdir", str(tmp_path),
    ]

    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)

    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    record = json.loads(out.read_text(encoding="utf-8"))
    result = record["sizes"]["1000"]
    assert all(check["ok"] for check in result["checks"].values()), result["checks"]
    assert result["import"]["rows"] == 1000
    assert result["import_startup"]["seconds"] > 0
    assert result["create"]["rows_written"]["issues"] == 100
    assert result["update"]["rows"] == 100
    assert result["queries"]["q1"]["runs"] == 3
    assert result["ratios"]["import_vs_core_batch"] > 0
    assert result["cpu_ratios"]["create_vs_core_single"] > 0
    assert result["import"]["cpu_seconds"] > 0
    assert record["machine"]["sqlite"]
    assert "| 1,000 | wenti import" in completed.stdout
    assert not list(tmp_path.glob("wenti-bench-core-*")), "the temporary databases were not removed"


def test_bench_core_rejects_bad_sizes():
    command = [sys.executable, str(HERE / "bench_core.py"), "--sizes", "ten"]

    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert completed.returncode == 2
    assert "invalid --sizes 'ten'" in completed.stderr


@needs_workload
def test_check_recorder_records_results(capsys):
    import bench_core

    workload_module = common.load_workload()
    wrong: dict = {}
    right: dict = {}

    workload_module.check_q3(bench_core.CheckRecorder(wrong), {"q3": 5}, 4)
    workload_module.check_q3(bench_core.CheckRecorder(right), {"q3": 4}, 4)

    assert wrong["q3"]["ok"] is False
    assert wrong["q3"]["detail"] == {"got": 4, "want": 5}
    assert right["q3"]["ok"] is True
    assert "CHECK FAILED q3" in capsys.readouterr().out
