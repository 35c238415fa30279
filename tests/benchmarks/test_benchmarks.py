"""Every script in benchmarks/ runs at a tiny size: exit 0 and a last line of key=value figures.

Each runs as a subprocess (as a user would run it) with ``OMP_NUM_THREADS=1`` (LightGBM's
OpenMP team is slower than one thread on a few thousand rows on a busy machine). The ones
that train models or start servers are marked ``slow``. The serving benchmark runs both
servers, ours and ``mlflow models serve``, for one second each.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "benchmarks"
FIGURES = re.compile(r"^[a-z][a-z0-9_]*=\S+( [a-z][a-z0-9_]*=\S+)*$")
"""The last line of a benchmark: space-separated key=value pairs, nothing else."""
SMOKE = ("--customers=300", "--boost-rounds=10", "--lgbm-threads=1")
"""Training at the smoke-test size: few customers, few boosting rounds, one LightGBM thread."""


TINY_RUNS = (
    "benchmarks/features.py",
    "benchmarks/generate.py",
    "benchmarks/quality.py",
    "benchmarks/rescoring.py",
    "benchmarks/rescoring_spark.py",
    "benchmarks/serving.py",
    "benchmarks/soak.py",
    "benchmarks/training.py",
)
"""Every benchmark script, each run below at a tiny size (a new script must be added here)."""


def run_benchmark(script: str, *args: str, timeout_s: float = 300) -> list[str]:
    """Run ``script`` (a path from the repository root) with ``args``; its stdout lines."""
    assert script in TINY_RUNS, script
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, str(REPO / script), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout_s, check=False,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout.strip().splitlines()


def figures(lines: list[str]) -> dict[str, str]:
    """The key=value pairs of the last line; fails when it is anything else."""
    assert lines, "no output"
    assert FIGURES.match(lines[-1]), f"last line is not key=value figures: {lines[-1]!r}"
    return dict(pair.split("=", 1) for pair in lines[-1].split())


def test_every_benchmark_script_has_a_tiny_run() -> None:
    scripts = {f"benchmarks/{p.name}" for p in BENCHMARKS.glob("*.py")}
    assert scripts == set(TINY_RUNS)


def test_figures_line_rule_rejects_prose() -> None:
    """Negative control for the last-line rule: prose or a trailing word does not pass."""
    assert FIGURES.match("invoices_per_s=10 peak_rss_mb=20")
    assert not FIGURES.match("speed-up (invoices/s, ours vs reference): 9.0x")
    assert not FIGURES.match("invoices_per_s=10 done")


def test_no_benchmark_imports_the_tests_package() -> None:
    """Benchmarks use the product's code only, never test fixtures."""
    offenders = [
        path.name
        for path in sorted(BENCHMARKS.glob("*.py"))
        if re.search(r"^\s*(from|import) tests\b", path.read_text(), flags=re.MULTILINE)
    ]
    assert offenders == []


def test_generate_benchmark_tiny() -> None:
    found = figures(
        run_benchmark("benchmarks/generate.py", "--customers=200", "--partition-size=100")
    )
    assert int(found["customers"]) == 200
    assert int(found["invoices"]) > 0


def test_features_benchmark_tiny_agrees_with_its_reference(tmp_path: Path) -> None:
    """The vectorised features equal the per-customer pandas reference on the sample (the
    script exits 1 on any disagreement) and the three figures are reported."""
    lines = run_benchmark(
        "benchmarks/features.py", "--customers=200", "--sample=25", f"--out={tmp_path}"
    )
    assert any("all features equal" in line for line in lines), "\n".join(lines)
    assert set(figures(lines)) == {"invoices_per_s", "peak_rss_mb", "speedup_vs_reference"}


@pytest.mark.slow
def test_training_benchmark_tiny() -> None:
    found = figures(run_benchmark("benchmarks/training.py", *SMOKE))
    assert float(found["fit_seconds"]) > 0


@pytest.mark.slow
def test_quality_benchmark_tiny() -> None:
    found = figures(run_benchmark(
        "benchmarks/quality.py", "--skip-ibm", *SMOKE
    ))
    assert 0.0 <= float(found["default_auc"]) <= 1.0
    # the applicant evidence: every onboarding snapshot after the training cut is counted
    # (a tiny ledger has too few defaults for an AUC: NaN, shown as "not enough events")
    assert float(found["applicant_rows"]) > 0
    assert float(found["applicant_defaults"]) >= 0
    assert {"applicant_auc", "applicant_oracle_auc", "applicant_yardstick_auc"} <= set(found)


@pytest.mark.slow
def test_rescoring_spark_benchmark_tiny() -> None:
    """Spark in local mode and the local engine on the same bucketed Parquet ledger (a model
    trained through the product at the smoke size)."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    found = figures(run_benchmark(
        "benchmarks/rescoring_spark.py", "--customers=300", "--buckets=4", "--local-buckets=1",
        "--train-customers=400", "--boost-rounds=10", "--quantile-rounds=10", "--lgbm-threads=1",
        "--driver-memory=1g",
        timeout_s=600,
    ))
    assert int(found["customers"]) > 0
    assert float(found["spark_customers_per_s"]) > 0
    assert float(found["local_customers_per_s"]) > 0
    assert float(found["spark_peak_tree_rss_mb"]) > 0


@pytest.mark.slow
def test_rescoring_benchmark_tiny() -> None:
    """The whole book rescored on SQLite (a bundle fitted at the smoke size), against the
    service's per-request path on a few customers."""
    found = figures(run_benchmark(
        "benchmarks/rescoring.py", "--customers=300", "--databases=sqlite", "--buckets=4",
        "--sample=10", "--train-customers=400", "--boost-rounds=10", "--quantile-rounds=10",
        "--lgbm-threads=1", "--workers=1",
    ))
    assert float(found["customers_per_s"]) > 0
    assert float(found["seconds_total"]) > 0
    assert float(found["peak_rss_mb"]) > 0


@pytest.mark.slow
def test_serving_benchmark_tiny_runs_both_servers() -> None:
    """Ours and ``mlflow models serve`` each answer every seeded applicant with 200 (bureau
    scores are drawn inside the ledger's range, so none is refused)."""
    found = figures(run_benchmark(
        "benchmarks/serving.py", *SMOKE, "--duration=1", "--warmup=0.5",
        "--risk-duration=1",
    ))
    assert float(found["ours_rps"]) > 0
    assert float(found["mlflow_rps"]) > 0
    assert int(found["errors"]) == 0, "a payload outside the model's training range is a 422"


@pytest.mark.slow
def test_soak_benchmark_tiny_checks_the_decision_log() -> None:
    """A few seconds of fixed-rate scoring with the portfolio storm and an import: every
    application answered 200, the import succeeded, and the decision log equals the answers.
    Without the rescoring run first (about a minute on a busy machine: the run path has its
    own tests); the storm's books are computed on the service's worker process."""
    found = figures(run_benchmark(
        "benchmarks/soak.py", *SMOKE, "--rate=20", "--calm=2", "--duration=4",
        "--import-customers=100", "--no-rescore",
    ))
    assert int(found["errors"]) == 0, found
    assert int(found["app_requests"]) == 120
    assert float(found["import_rc"]) == 0
    assert int(found["log_mismatches"]) == 0
    assert int(found["logged_unanswered"]) == 0
    assert int(found["storm_ok"]) + int(found["storm_refused"]) > 0
    assert float(found["worker_rss_peak_mb"]) > 0  # the books ran in a worker process
