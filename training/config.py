"""Training configuration: one validated object, loadable from YAML, logged with every run
(flattened for MLflow by :func:`training.tracking.flatten_config`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from creditrisk.features.default_status import DefaultDefinition


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefaultModelConfig(_Strict):
    horizon_days: int = Field(365, ge=30, le=730, description="Default label window")
    dpd_days: int = Field(90, ge=30, description="Days past due that count as default")
    holdout_months: int = Field(6, ge=1, description="Latest labelled month-ends held out")
    valid_months: int = Field(
        3, ge=0, description="Latest training months on which the boosting rounds are validated"
    )
    round_folds: int = Field(
        0, ge=0, le=10,
        description="Customer folds whose mean validation loss chooses the boosting rounds "
        "(training/boosting_rounds.py); below 2: one early-stopping fold of "
        "valid_customer_share of the customers",
    )
    valid_customer_share: float = Field(
        0.2, ge=0, lt=1,
        description="Share of training customers held out for early stopping (round_folds < 2)",
    )
    calibration: Literal["platt", "isotonic", "none"] = "platt"
    lgbm_params: dict[str, Any] = Field(default_factory=dict)
    min_leaf_share: float = Field(
        0.0, ge=0, lt=0.5,
        description="Fewest rows a leaf may hold, as a share of the fitted rows (at least "
        "min_data_in_leaf); an explicit lgbm_params min_data_in_leaf overrides it",
    )
    num_boost_round: int = Field(600, ge=10)
    num_leaves: int = Field(
        7, ge=2, le=255,
        description="Leaves per tree of the default model (the late-payment models keep "
        "15): its events are a few hundred defaulting customers, and smaller trees fit them "
        "with less variance (docs/synthetic.md); lgbm_params num_leaves overrides it",
    )
    refit_all_training: bool = Field(
        True,
        description="After early stopping picks the rounds, refit on every training customer",
    )
    scorecard_c: float = Field(
        1.0, gt=0, description="Inverse L2 strength of the scorecard's logistic regression"
    )
    scorecard_min_iv: float = Field(
        0.02, ge=0, description="Least information value a feature needs to enter the scorecard"
    )
    min_segment_events: int = Field(
        20, ge=1, description="Fewer events than this in a segment: no metric, 'not enough events'"
    )
    min_train_months: int = Field(
        6, ge=1, description="Fewest month-ends of training snapshots the default model needs"
    )
    when_unsupported: Literal["skip", "fail"] = Field(
        "skip",
        description="A ledger too short or without default events for these windows: skip the "
        "default model (the late model is still trained and registered) or fail at once",
    )
    fit_windows: bool = Field(
        False,
        description="A ledger too short for horizon_days/holdout_months: use the longest "
        "windows that fit instead (label window in 30-day steps down to min_horizon_days, "
        "holdout down to min_holdout_months)",
    )
    min_horizon_days: int = Field(
        180, ge=30, le=730, description="Shortest label window fit_windows may choose"
    )
    min_holdout_months: int = Field(
        3, ge=1, description="Shortest holdout fit_windows may choose"
    )

    def definition(self) -> DefaultDefinition:
        """The one definition of default these settings select (travels in the bundle)."""
        return DefaultDefinition(days_past_due=self.dpd_days)


class LateModelConfig(_Strict):
    grace_days: int = Field(0, ge=0, description="Paid later than due + grace counts as late")
    holdout_share: float = Field(0.3, gt=0, lt=1)
    calibration: Literal["platt", "isotonic", "none"] = "platt"
    lgbm_params: dict[str, Any] = Field(default_factory=dict)
    num_boost_round: int = Field(600, ge=10)
    quantile_rounds: int = Field(150, ge=10, description="Days-late quantiles' rounds")
    quantile_learning_rate: float = Field(
        0.2, gt=0, le=1, description="Days-late quantiles' learning rate: 150 rounds at 0.2 "
        "reach the pinball loss of 300 rounds at 0.08 (the demo ledger) in half the time")


class OpenInvoiceModelConfig(_Strict):
    """Invoices open at month-ends (:mod:`training.open_invoices`); grace is ``late``'s."""

    horizon_days: int = Field(
        180, ge=30, le=730, description="Days from a month-end within which payment is watched"
    )
    holdout_months: int = Field(6, ge=1, description="Latest labelled month-ends held out")
    rows_per_month_end: int = Field(
        3000, ge=100, description="Training rows sampled per month-end (holdout: all rows)"
    )
    target_coverage: float = Field(0.8, gt=0.5, lt=1, description="p10-p90 interval coverage")
    calibration: Literal["platt", "isotonic", "none"] = "isotonic"
    lgbm_params: dict[str, Any] = Field(default_factory=dict)
    num_boost_round: int = Field(400, ge=10)
    quantile_rounds: int = Field(100, ge=10, description="Days-to-payment quantiles' rounds")
    quantile_learning_rate: float = Field(
        0.2, gt=0, le=1, description="Days-to-payment quantiles' learning rate (100 rounds at "
        "0.2 instead of 200 at 0.08; the calibration months' widening keeps the coverage)")


class TrainingConfig(_Strict):
    """Everything that decides a model: same data + same config -> same model."""

    model_name: str = "creditrisk"
    experiment: str = "creditrisk"
    seed: int = 7
    default: DefaultModelConfig = Field(default_factory=DefaultModelConfig)
    late: LateModelConfig = Field(default_factory=LateModelConfig)
    open_invoices: OpenInvoiceModelConfig = Field(default_factory=OpenInvoiceModelConfig)
    train_default: bool = True
    model_kind: Literal["lightgbm", "scorecard"] = Field(
        "lightgbm",
        description="Estimator of the default model in the bundle (the WoE scorecard is always "
        "fitted as the baseline and reported beside it)",
    )

    @classmethod
    def capped(cls, *, boost_rounds: int | None, lgbm_threads: int | None) -> TrainingConfig:
        """The default config with every model's boosting rounds and LightGBM threads capped
        (the benchmarks' smoke-test size; None keeps the config's own)."""
        models: dict[str, dict[str, object]] = {"default": {}, "late": {}, "open_invoices": {}}
        for name, part in models.items():
            if boost_rounds is not None:
                part["num_boost_round"] = boost_rounds
                if name != "default":
                    part["quantile_rounds"] = boost_rounds
            if lgbm_threads is not None:
                part["lgbm_params"] = {"num_threads": lgbm_threads}
        return cls.model_validate(models)

    @classmethod
    def from_yaml(cls, path: Path) -> TrainingConfig:
        data = yaml.safe_load(path.read_text()) or {}
        return cls.model_validate(data)
