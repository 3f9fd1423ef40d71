"""The benchmark harness works end to end in its quick mode (no timing is ever asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_quick_bench_writes_json_and_markdown(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (report_file,) = tmp_path.glob("*-quick.json")
    assert report_file.with_suffix(".md").exists()
    report = json.loads(report_file.read_text())
    assert report["quick"] is True
    assert {"nproc", "memory_gb", "cpu", "versions"} <= report["machine"].keys()
    results = report["results"]
    assert set(results) == {"coinr", "engine", "uncertainty", "edition", "incremental", "queries"}
    side = results["coinr"]  # COINr beside compute, or why not (R and COINr not installed)
    if "skipped" in side:
        assert "COINr 1.1.14" in side["skipped"] and "COINR_LIB" in side["skipped"]
    else:
        for run in [*side["panels"], *side["one_year"].values()]:
            agreement = run["agreement"]
            assert agreement["rows_matched"] == agreement["rows_compute"] > 0
            assert agreement["max_abs_diff"] <= 1e-9 and agreement["rank_mismatches"] == 0
        assert side["compute_profile_largest_panel"]["models_s"]["eng_scores"] >= 0
    assert not [name for name, r in results.items() if "error" in r]
    size = results["engine"]["sizes"][0]
    assert {"compute_s", "compute_peak_rss_mb", "numpy_s", "compute_over_numpy"} <= size.keys()
    assert size["check_compute_vs_numpy"]["identical_within_1e-9"]
    assert {"ms_per_replication", "total_s"} <= results["uncertainty"].keys()
    assert results["incremental"]["check_new_year_equals_backfill"]["identical_within_1e-9"]
    for query in ("top_50", "city_history", "pillar_breakdown", "movers", "rank_intervals"):
        assert {"p50_ms", "p95_ms"} <= results["queries"]["queries"][query].keys()
    assert {g["goal"] for g in report["goals"]} and all("pass" in g for g in report["goals"])
    assert "| goal | measured | target | result |" in report_file.with_suffix(".md").read_text()
