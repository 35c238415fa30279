"""What a ledger can support, checked before anything is fitted.

``creditrisk train`` on a real ledger used to find out after minutes that the default model's
windows do not fit (the 12-month label window twice, once for the labels and once as the gap
before the holdout, plus the holdout months) or that there is no default event at all. Here
the same windows are planned on the ledger's dates and its events are counted per split part,
from the ledger alone (no features), in about a second:

* **months of history**: month-ends from the ledger's first invoice to the data end;
* **labelled months**: month-ends whose default label window closes by the data end;
* **default events**: customers with a default event (the bundle's one definition,
  :mod:`creditrisk.features.default_status`) inside the label windows of the training rows,
  and of the calibration and test holdout (split by customer as the fit splits them);
* **late-payment outcomes**: invoices with a known outcome, late and on time, per part.

A default model the ledger cannot support is skipped with the reason (or the run fails at
once when the config says ``default.when_unsupported: fail``); with ``fit_windows`` the
label window and holdout are shrunk to the longest that fit (:func:`fit_default_windows`).
A late-payment model the ledger cannot support fails the run at once: nothing to register.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from creditrisk.features.default_status import default_events
from creditrisk.ledger.frame import Ledger
from creditrisk.training.config import DefaultModelConfig, LateModelConfig, TrainingConfig
from creditrisk.training.datasets import DatasetError, ledger_start, month_ends
from creditrisk.training.errors import TrainingError
from creditrisk.training.labels import late_payment_labels
from creditrisk.training.split import (
    CALIBRATION,
    TEST,
    TRAIN,
    OutOfTimeSplit,
    SplitError,
    customer_bucket,
    plan_invoice_split,
    plan_snapshot_split,
)

FIT_HORIZON_STEP_DAYS = 30
"""``fit_windows`` shortens the label window in steps of this many days."""


class UnsupportedLedger(TrainingError, ValueError):  # noqa: N818 (reads as the situation it is)
    """The ledger cannot support a model the run needs (one line: the problem and the option
    to change)."""


@dataclass(frozen=True)
class DefaultSupport:
    """The default model's windows on this ledger and the events each split part holds."""

    horizon_days: int
    holdout_months: int
    labelled_months: int
    train_months: int
    events: dict[str, int] = field(default_factory=dict)
    problem: str | None = None
    """Why the ledger cannot support these windows (None: it can)."""

    @property
    def supported(self) -> bool:
        return self.problem is None

    def windows(self, min_train_months: int) -> str:
        """The windows in one phrase, each with the config key that sets it."""
        return windows_phrase(self.horizon_days, self.holdout_months, min_train_months)


def windows_phrase(horizon_days: int, holdout_months: int, min_train_months: int) -> str:
    """The default model's windows in one phrase, each with the config key that sets it."""
    return (f"label window {horizon_days} days (default.horizon_days) + the same gap "
            f"+ holdout {holdout_months} months (default.holdout_months) + "
            f"{min_train_months} training months (default.min_train_months)")


@dataclass(frozen=True)
class LedgerSupport:
    """The pre-flight report: what the ledger holds and which models it supports."""

    first_day: pd.Timestamp
    data_end: pd.Timestamp
    history_months: int
    invoices: int
    late_outcomes: dict[str, tuple[int, int]]
    """Split part -> (invoices with a known outcome, of which late)."""
    default_events_total: int
    default: DefaultSupport
    configured: DefaultSupport
    """The windows as configured (``default`` differs when fit_windows resized them)."""
    late_problem: str | None = None

    def to_params(self) -> dict[str, object]:
        """The figures for the run's parameters."""
        return {"history_months": self.history_months, "invoices": self.invoices,
                "default_events": self.default_events_total,
                "default_labelled_months": self.default.labelled_months,
                "default_train_months": self.default.train_months,
                "default_horizon_days": self.default.horizon_days,
                "default_holdout_months": self.default.holdout_months}

    def lines(self) -> list[str]:
        """The report, one fact a line, for the CLI and the run's log."""
        d = self.default
        out = [
            f"ledger: {self.history_months} months of history "
            f"({self.first_day.date()} to {self.data_end.date()}), {self.invoices} invoices",
            "late-payment outcomes (known / late): " + ", ".join(
                f"{part} {known} / {late}" for part, (known, late) in self.late_outcomes.items()
            ),
            f"default model: {d.labelled_months} labelled months with a {d.horizon_days}-day "
            f"label window, {d.train_months} training months, {d.holdout_months}-month holdout",
            f"default events: {self.default_events_total} known in the ledger; customers with "
            "an event in the label windows: " + (", ".join(
                f"{part} {count}" for part, count in d.events.items()
            ) or "no split possible"),
        ]
        if d is not self.configured:
            c = self.configured
            out.append(f"windows fitted to the ledger: label window {c.horizon_days} -> "
                       f"{d.horizon_days} days, holdout {c.holdout_months} -> "
                       f"{d.holdout_months} months")
        return out


def _late_outcomes(
    ledger: Ledger, *, data_end: pd.Timestamp, config: LateModelConfig
) -> tuple[dict[str, tuple[int, int]], str | None]:
    invoices = ledger.invoices[ledger.invoices["amount"] > 0]
    empty = {TRAIN: (0, 0), CALIBRATION: (0, 0), TEST: (0, 0)}
    if invoices.empty:
        return empty, "the ledger holds no invoice with a positive amount"
    split = plan_invoice_split(invoices["issue_date"], data_end=data_end,
                               holdout_share=config.holdout_share)
    roles = pd.Series(split.assign(invoices["issue_date"], invoices["customer_id"]),
                      index=invoices["invoice_id"].to_numpy())
    out: dict[str, tuple[int, int]] = {}
    for part, cutoff in ((TRAIN, split.train_end), (CALIBRATION, data_end), (TEST, data_end)):
        labels = late_payment_labels(ledger, cutoff=cutoff, grace_days=config.grace_days)
        labels = labels[labels["known"].to_numpy()
                        & (roles.reindex(labels["invoice_id"].to_numpy()) == part).to_numpy()]
        out[part] = (len(labels), int(labels["late"].sum()))
    for part, (known, late) in out.items():
        if late == 0 or late == known:
            return out, (
                f"the late-payment {part} part has {known} invoices with a known outcome, "
                f"{late} late: it needs late and on-time invoices (late.holdout_share "
                f"{config.holdout_share} decides the parts; a longer ledger helps)"
            )
    return out, None


def _events_in(
    events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, customers: np.ndarray
) -> int:
    dates = events["event_date"]
    inside = (dates > start) & (dates <= end) & customers
    return int(events.loc[inside.to_numpy(), "customer_id"].nunique())


@dataclass(frozen=True)
class WindowPlan:
    """The default model's out-of-time split planned on dates alone (no rows read)."""

    labelled_months: int
    split: OutOfTimeSplit | None
    train_months: int
    problem: str | None
    """Why these windows do not fit between the first day and the data end (None: they do)."""


def plan_windows(
    first: pd.Timestamp,
    data_end: pd.Timestamp,
    *,
    horizon_days: int,
    holdout_months: int,
    min_train_months: int,
) -> WindowPlan:
    """Plan the default model's split on the month-ends from ``first`` (the first invoice)
    whose label window closes by ``data_end``: the fit's own
    :func:`training.split.plan_snapshot_split`, so the answer is the fit's."""
    last_labelled = data_end - pd.Timedelta(days=horizon_days)
    dates = month_ends(first, last_labelled) if first <= last_labelled else []
    windows = windows_phrase(horizon_days, holdout_months, min_train_months)
    try:
        split = plan_snapshot_split(dates, horizon_days=horizon_days,
                                    holdout_periods=holdout_months)
    except SplitError:
        return WindowPlan(len(dates), None, 0, (
            f"{len(dates)} labelled month-ends from {first.date()}, too few for {windows}"))
    train_months = sum(1 for d in dates if d <= split.train_end)
    problem = None
    if train_months < min_train_months:
        problem = (f"{len(dates)} labelled month-ends from {first.date()} leave {train_months} "
                   f"training months with {windows}")
    return WindowPlan(len(dates), split, train_months, problem)


def default_support(
    ledger: Ledger,
    events: pd.DataFrame,
    *,
    data_end: pd.Timestamp,
    horizon_days: int,
    holdout_months: int,
    min_train_months: int,
    dpd_days: int,
) -> DefaultSupport:
    """Plan the default model's out-of-time split on the ledger's month-ends
    (:func:`plan_windows`) and count its events per part."""
    first = ledger_start(ledger)
    plan = plan_windows(first, data_end, horizon_days=horizon_days,
                        holdout_months=holdout_months, min_train_months=min_train_months)
    support = DefaultSupport(horizon_days, holdout_months, plan.labelled_months,
                             plan.train_months)
    if plan.split is not None:
        support = replace(support, events=_count_events(events, plan.split))
    if events.empty:
        return replace(support, problem=(
            f"the ledger holds no default event up to {data_end.date()} (no invoice "
            f"{dpd_days}+ days past due, no write-off, no insolvency)"))
    if plan.problem is not None:
        return replace(support, problem=plan.problem)
    empty_parts = [part for part, count in support.events.items() if count == 0]
    if empty_parts:
        return replace(support, problem=(
            f"no default event in the {' and '.join(empty_parts)} label windows "
            f"({', '.join(f'{p} {n}' for p, n in support.events.items())}): every part needs "
            "both outcomes"))
    return support


def _count_events(events: pd.DataFrame, split: OutOfTimeSplit) -> dict[str, int]:
    horizon = pd.Timedelta(days=split.horizon_days)
    customers = events["customer_id"]
    to_calibration = customer_bucket(customers) < split.calibration_share
    everyone = np.ones(len(events), dtype=bool)
    return {
        TRAIN: _events_in(events, split.train_start, split.train_end + horizon, everyone),
        CALIBRATION: _events_in(events, split.holdout_start, split.holdout_end + horizon,
                                to_calibration),
        TEST: _events_in(events, split.holdout_start, split.holdout_end + horizon,
                         ~to_calibration),
    }


def fit_default_windows(
    ledger: Ledger,
    events: pd.DataFrame,
    *,
    data_end: pd.Timestamp,
    config: DefaultModelConfig,
) -> DefaultSupport | None:
    """The longest windows this ledger supports: the configured label window, shortened in
    30-day steps down to ``default.min_horizon_days``; for each, the configured holdout
    shortened down to ``default.min_holdout_months``. None when none fits."""
    horizon = config.horizon_days
    while horizon >= config.min_horizon_days:
        for holdout in range(config.holdout_months, config.min_holdout_months - 1, -1):
            support = default_support(ledger, events, data_end=data_end, horizon_days=horizon,
                                      holdout_months=holdout,
                                      min_train_months=config.min_train_months,
                                      dpd_days=config.dpd_days)
            if support.supported:
                return support
        horizon -= FIT_HORIZON_STEP_DAYS
    return None


def shortest_windows(config: DefaultModelConfig) -> tuple[int, int]:
    """The shortest label window and holdout :func:`fit_default_windows` tries."""
    steps = max(0, (config.horizon_days - config.min_horizon_days) // FIT_HORIZON_STEP_DAYS)
    return (config.horizon_days - steps * FIT_HORIZON_STEP_DAYS,
            min(config.holdout_months, config.min_holdout_months))


def check_windows_fit(
    first_day: date | pd.Timestamp, data_end: date | pd.Timestamp, config: TrainingConfig
) -> None:
    """The first check of ``creditrisk train``, on two dates only (the first invoice and the
    data end, read with aggregate SQL before the ledger is read or MLflow and the estimators
    are imported). Raises :class:`UnsupportedLedger` when the run would fail on the default
    model's windows anyway: it is required (``default.when_unsupported: fail``) and its
    windows, with ``fit_windows`` even the shortest, do not fit. Events are counted later, by
    :func:`assess_ledger`; this check never decides what that one would not."""
    first, end = pd.Timestamp(first_day).normalize(), pd.Timestamp(data_end).normalize()
    if first > end:
        raise UnsupportedLedger(
            f"the ledger's first invoice ({first.date()}) is after the data end "
            f"({end.date()}): choose a later --data-end")
    default = config.default
    if not config.train_default or default.when_unsupported != "fail":
        return
    plan = plan_windows(first, end, horizon_days=default.horizon_days,
                        holdout_months=default.holdout_months,
                        min_train_months=default.min_train_months)
    if plan.problem is None:
        return
    problem = plan.problem
    if default.fit_windows:
        horizon, holdout = shortest_windows(default)
        shortest = plan_windows(first, end, horizon_days=horizon, holdout_months=holdout,
                                min_train_months=default.min_train_months)
        if shortest.problem is None:
            return
        problem = _even_shortest(problem, default)
    raise UnsupportedLedger(_cannot_support(problem, _options(config, has_events=True)))


def _even_shortest(problem: str | None, config: DefaultModelConfig) -> str:
    return (f"{problem}; even the shortest windows fit_windows may use (label window "
            f"default.min_horizon_days {config.min_horizon_days} days, holdout "
            f"default.min_holdout_months {config.min_holdout_months}) do not fit")


def _options(config: TrainingConfig, *, has_events: bool) -> str:
    if not has_events:
        return "a lower default.dpd_days in --config if invoices run that late"
    if config.default.fit_windows:
        return "shorter default.min_horizon_days / default.min_holdout_months in --config"
    return "--fit-windows (default.fit_windows) to size the windows to the ledger"


def _cannot_support(problem: str | None, options: str) -> str:
    return (f"the ledger cannot support the default model: {problem}; options: {options}, or "
            "--late-only")


def assess_ledger(
    ledger: Ledger,
    *,
    data_end: pd.Timestamp,
    default_config: DefaultModelConfig,
    late_config: LateModelConfig,
    fit_windows: bool,
) -> LedgerSupport:
    """The pre-flight report (:class:`LedgerSupport`); raises :class:`UnsupportedLedger` when
    the ledger holds no invoice history at all."""
    end = pd.Timestamp(data_end).normalize()
    try:
        first = ledger_start(ledger)
    except DatasetError as exc:
        raise UnsupportedLedger(str(exc)) from exc
    if first > end:
        raise UnsupportedLedger(
            f"the ledger's first invoice ({first.date()}) is after the data end "
            f"({end.date()}): choose a later --data-end")
    late, late_problem = _late_outcomes(ledger, data_end=end, config=late_config)
    events = default_events(ledger, default_config.definition())
    events = events[events["event_date"] <= end].reset_index(drop=True)
    configured = default_support(ledger, events, data_end=end,
                                 horizon_days=default_config.horizon_days,
                                 holdout_months=default_config.holdout_months,
                                 min_train_months=default_config.min_train_months,
                                 dpd_days=default_config.dpd_days)
    chosen = configured
    if fit_windows and not configured.supported and not events.empty:
        chosen = fit_default_windows(ledger, events, data_end=end, config=default_config) or (
            replace(configured, problem=_even_shortest(configured.problem, default_config)))
    return LedgerSupport(
        first_day=first,
        data_end=end,
        history_months=len(month_ends(first, end)),
        invoices=int((ledger.invoices["amount"] > 0).sum()),
        late_outcomes=late,
        default_events_total=len(events),
        default=chosen,
        configured=configured,
        late_problem=late_problem,
    )


def plan_default_model(
    support: LedgerSupport, config: TrainingConfig
) -> tuple[DefaultModelConfig, str | None]:
    """The default model's config for this ledger (windows as fitted) and why it is skipped
    (None: it is trained). Raises :class:`UnsupportedLedger` (one line: the problem and the
    options) when the late model cannot be trained, or the default model cannot and
    ``default.when_unsupported`` is ``fail``."""
    if support.late_problem is not None:
        raise UnsupportedLedger(f"cannot train the late-payment model: {support.late_problem}")
    chosen = support.default
    fitted = config.default.model_copy(update={"horizon_days": chosen.horizon_days,
                                               "holdout_months": chosen.holdout_months})
    if not config.train_default:
        return fitted, "not asked for (--late-only / train_default: false)"
    if chosen.supported:
        return fitted, None
    options = _options(config, has_events=support.default_events_total > 0)
    if config.default.when_unsupported == "fail":
        raise UnsupportedLedger(_cannot_support(chosen.problem, options))
    return fitted, f"{chosen.problem} (options: {options})"
