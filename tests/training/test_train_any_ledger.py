"""``creditrisk train`` on the ledgers real users bring (issue 10 item 3), through the CLI.

- 30 months without any default event: exits 0, says the default model was skipped and why,
  and registers a late-only bundle that is promoted and served (invoice predictions
  answered, PD endpoints a 503 naming "no default model in this bundle").
- A ledger too short for the default model's windows with ``--require-default``: one line
  naming the windows and the options, exit 2, before the ledger is read or MLflow and the
  estimators imported (checked on the first invoice date and the data end alone).
- ``fit_windows`` sizes the windows to a 30-month ledger that the configured ones do not fit.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from creditrisk.cli import app
from creditrisk.features.default_status import DefaultDefinition, default_events
from creditrisk.serving.api.entrypoint import build_service
from creditrisk.serving.api_keys import generate_api_key
from creditrisk.serving.settings import SeededApiKey, Settings
from creditrisk.training import tracking
from creditrisk.training.capacity import (
    UnsupportedLedger,
    assess_ledger,
    check_windows_fit,
    plan_default_model,
)
from creditrisk.training.config import DefaultModelConfig, LateModelConfig, TrainingConfig
from creditrisk.training.scoring import load_registered_bundle
from tests.training.ledger_shapes import (
    ledger_database,
    synthetic_ledger,
    tiny_config_file,
    without_default_events,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette 1.x prefers httpx2
    from fastapi.testclient import TestClient

START, END = date(2023, 1, 1), date(2025, 6, 30)  # 30 months
MODEL = "late-only-test"


@dataclass(frozen=True)
class Trained:
    output: str
    exit_code: int
    ledger_url: str
    tracking_uri: str
    customer_id: str


@pytest.fixture(scope="module")
def no_default_run(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    tmp = tmp_path_factory.mktemp("no-defaults")
    ledger = without_default_events(synthetic_ledger(customers=120, start=START, end=END),
                                    end=END)
    url = ledger_database(ledger, tmp / "ledger.db")
    tracking_uri = f"sqlite:///{tmp / 'mlflow.db'}"
    result = CliRunner().invoke(app, [
        "train", "--database-url", url, "--tracking-uri", tracking_uri,
        "--config", str(tiny_config_file(tmp / "config.yaml", model_name=MODEL)),
    ])
    open_invoice = ledger.invoices[ledger.invoices["settled_date"].isna()
                                   | (ledger.invoices["settled_date"] > pd.Timestamp(END))]
    customer = str((open_invoice if len(open_invoice) else ledger.invoices)
                   ["customer_id"].iloc[0])
    return Trained(result.output, result.exit_code, url, tracking_uri, customer)


def test_no_default_events_skips_the_default_model_and_registers_the_late_model(
    no_default_run: Trained,
) -> None:
    run = no_default_run
    assert run.exit_code == 0, run.output
    assert "Traceback" not in run.output
    assert "30 months of history" in run.output
    assert "default model skipped: the ledger holds no default event" in run.output
    assert "(late-payment only)" in run.output
    assert "late_test_days_late_mae_median_baseline" in run.output
    tracking.configure(run.tracking_uri)
    version = tracking.alias_version(MODEL, tracking.CHALLENGER_ALIAS)
    assert version is not None
    bundle = load_registered_bundle(version.uri)
    assert bundle.default_model is None
    assert "no default event" in bundle.metadata["default_model_skipped"]


def test_a_late_only_bundle_serves_invoices_and_names_the_missing_default_model(
    no_default_run: Trained,
) -> None:
    promoted = CliRunner().invoke(app, ["promote", "--model-name", MODEL, "--actor", "test",
                                        "--tracking-uri", no_default_run.tracking_uri])
    assert promoted.exit_code == 0, promoted.output  # first champion: no gate to compare
    key = generate_api_key(label="t", scopes=["read", "score"],
                           created_at=datetime(2025, 7, 1, tzinfo=UTC))
    seed = SeededApiKey(key_id=key.record.key_id, key_hash=key.record.key_hash,
                        scopes=key.record.scopes)
    settings = Settings(database_url=no_default_run.ledger_url,
                        model_uri=f"models:/{MODEL}@champion",
                        tracking_uri=no_default_run.tracking_uri, api_keys=(seed,))
    headers = {"X-API-Key": key.token}
    customer = no_default_run.customer_id
    with TestClient(build_service(settings)) as client:
        invoices = client.get(f"/v1/customers/{customer}/invoices/predictions",
                              params={"as_of": str(END)}, headers=headers)
        assert invoices.status_code == 200, invoices.text
        assert "invoices" in invoices.json()
        risk = client.get(f"/v1/customers/{customer}/risk", params={"as_of": str(END)},
                          headers=headers)
        assert risk.status_code == 503, risk.text
        assert risk.json()["error"] == "no_default_model"
        assert "no default model in this bundle" in risk.json()["message"]
        assert "Retry-After" not in risk.headers  # retrying does not help
        order = client.post(f"/v1/customers/{customer}/orders/check", headers=headers,
                            json={"order_amount": 1000.0, "as_of": str(END)})
        assert order.status_code == 503, order.text
        assert order.json()["error"] == "no_default_model"
        portfolio = client.get("/v1/portfolio", params={"as_of": str(END)}, headers=headers)
        assert portfolio.status_code == 503, portfolio.text
        assert portfolio.json()["error"] == "no_default_model"
        model = client.get("/v1/model", headers=headers)
        assert model.status_code == 200, model.text
        assert model.json()["metadata"]["model_kind"] == "late_only"


FAIL_BEFORE_HEAVY = """
import sys
from creditrisk.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    print("exit", exc.code)
print("heavy", sorted(m for m in ("mlflow", "lightgbm", "optbinning") if m in sys.modules))
"""


def test_a_too_short_ledger_fails_first_in_one_line_naming_the_windows(tmp_path: Path) -> None:
    """Before the ledger is read or MLflow and the estimators are imported: a fresh process
    that fails has not imported them (the time they take was most of the 12.5 s measured)."""
    ledger = synthetic_ledger(customers=200, start=date(2024, 9, 1), end=END)  # 10 months
    events = default_events(ledger, DefaultDefinition())
    assert (events["event_date"] <= pd.Timestamp(END)).any()  # short, not event-less
    url = ledger_database(ledger, tmp_path / "ledger.db")
    run = subprocess.run(
        [sys.executable, "-c", FAIL_BEFORE_HEAVY, "train", "--database-url", url,
         "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}", "--require-default"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.stdout.splitlines()[-2:] == ["exit 2", "heavy []"], run.stdout + run.stderr
    failure = [line for line in run.stderr.splitlines() if "training failed" in line]
    assert len(failure) == 1, run.stderr
    assert "default.horizon_days" in failure[0]
    assert "default.holdout_months" in failure[0]
    assert "--fit-windows" in failure[0]
    assert "Traceback" not in run.stderr


def test_the_first_check_on_dates_agrees_with_the_full_assessment() -> None:
    """Where check_windows_fit (two dates) fails, plan_default_model (the whole ledger)
    fails too, with the same line unless its late-model check fails first; where it
    passes, the windows fit by dates (the full assessment may still fail on the events per
    part, which only it counts)."""
    ledger = synthetic_ledger(customers=60, start=START, end=END)  # 30 months
    first = ledger.invoices["issue_date"].min()
    required = TrainingConfig().model_copy(
        update={"default": DefaultModelConfig(when_unsupported="fail")})
    first_checks = []
    for end, fit in ((pd.Timestamp(END), False), (pd.Timestamp(END), True),
                     (pd.Timestamp("2024-06-30"), True)):
        config = required.model_copy(
            update={"default": required.default.model_copy(update={"fit_windows": fit})})
        support = assess_ledger(ledger, data_end=end, default_config=config.default,
                                late_config=config.late, fit_windows=fit)
        try:
            plan_default_model(support, config)
            full = None
        except UnsupportedLedger as exc:
            full = str(exc)
        try:
            check_windows_fit(first, end, config)
            first_check = None
        except UnsupportedLedger as exc:
            first_check = str(exc)
        if first_check is not None:  # the same line, unless the late model fails first
            assert full is not None, (end, fit)
            assert first_check == full or full.startswith("cannot train the late"), (end, fit)
        first_checks.append(first_check is None)
    # 30 months: 365 days + the same gap + 6 months do not fit, fitted windows do; 18 months:
    # not even the shortest (180 days twice + 3 months + 6 training months)
    assert first_checks == [False, True, False]


def test_fit_windows_sizes_the_default_windows_to_a_30_month_ledger() -> None:
    ledger = synthetic_ledger(customers=300, start=START, end=END)
    assert not default_events(ledger, DefaultDefinition()).empty
    end = pd.Timestamp(END)
    configured = assess_ledger(ledger, data_end=end, default_config=DefaultModelConfig(),
                               late_config=LateModelConfig(), fit_windows=False)
    assert not configured.default.supported
    assert "default.horizon_days" in str(configured.default.problem)
    _, skip = plan_default_model(configured, TrainingConfig())
    assert skip is not None
    assert "--fit-windows" in skip
    fitted = assess_ledger(ledger, data_end=end, default_config=DefaultModelConfig(),
                           late_config=LateModelConfig(), fit_windows=True)
    chosen = fitted.default
    assert chosen.supported, chosen.problem
    assert (chosen.horizon_days, chosen.holdout_months) < (365, 6)
    assert chosen.train_months >= DefaultModelConfig().min_train_months
    assert all(count > 0 for count in chosen.events.values())
    assert any("windows fitted to the ledger" in line for line in fitted.lines())
    config, skip = plan_default_model(fitted, TrainingConfig())
    assert skip is None
    assert config.horizon_days == chosen.horizon_days


def test_a_ledger_without_late_invoices_cannot_train_and_says_so() -> None:
    ledger = synthetic_ledger(customers=40, start=START, end=END)
    invoices = ledger.invoices.copy()
    invoices["settled_date"] = invoices["due_date"].clip(upper=pd.Timestamp(END))
    on_time = type(ledger)(customers=ledger.customers, invoices=invoices,
                           payments=ledger.payments.iloc[0:0], credit_events=ledger.credit_events)
    support = assess_ledger(on_time, data_end=pd.Timestamp(END),
                            default_config=DefaultModelConfig(), late_config=LateModelConfig(),
                            fit_windows=False)
    with pytest.raises(UnsupportedLedger, match=r"late-payment .* 0 late"):
        plan_default_model(support, TrainingConfig())
