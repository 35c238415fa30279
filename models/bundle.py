"""The bundle: feature specs + default model + late-payment models + policy, as one object.

One bundle travels as one MLflow pyfunc (:mod:`models.pyfunc`), so the API, batch
rescoring, Spark and ``mlflow models serve`` give the same answer for the same input. The
bundle itself is plain Python and numpy: the online path scores one applicant from a dict
without building a DataFrame.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import numpy as np
import pandas as pd

from creditrisk.features.applicant import (
    APPLICANT_FEATURES,
    APPLICATION_FIELDS,
    REQUESTED_LIMIT,
    ApplicantTemplate,
    applicant_features,
)
from creditrisk.features.default_status import DefaultDefinition
from creditrisk.models import small_batch
from creditrisk.models.applicant_inputs import admit_frame, admit_record, input_ranges
from creditrisk.models.estimators import QuantileRegressors
from creditrisk.models.open_invoice_model import OpenInvoiceModel
from creditrisk.models.policy import Policy
from creditrisk.models.reasons import Reason, top_reasons
from creditrisk.models.spec import FeatureSpec
from creditrisk.models.tree_contributions import batch_top_factors

APPLICATION_COLUMNS: tuple[str, ...] = (*APPLICATION_FIELDS, "as_of")
"""The pyfunc's input: one applicant per row (the fields of
:data:`features.applicant.APPLICATION_FIELDS`, ``as_of`` = decision date, ISO string)."""

APPLICATION_OUTPUTS: tuple[str, ...] = (
    "pd_12m",
    "grade",
    "decision",
    "recommended_limit",
    "expected_loss",
    "decision_reasons",
    "top_factors",
)


class MissingDefaultModel(LookupError):  # noqa: N818 (reads as the situation it is)
    """The bundle was trained without a default model (a ledger that could not support one):
    PD, grade, limit and applicant answers are impossible; invoice predictions still work."""

    def __init__(self, reason: str | None = None) -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"no default model in this bundle{why}: PD, grade and limit answers need a bundle "
            "trained with one"
        )
        self.reason = reason


class Classifier(Protocol):
    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...
    def contributions(self, X: np.ndarray) -> np.ndarray: ...
    def importance_gain(self) -> dict[str, float]: ...


@dataclass(frozen=True)
class ApplicantScore:
    """The answer for one applicant."""

    pd_12m: float
    grade: int
    decision: str
    recommended_limit: float
    expected_loss: float
    decision_reasons: tuple[tuple[str, str], ...]
    factors: tuple[Reason, ...]
    features: Mapping[str, Any]
    policy_version: str


@functools.lru_cache(maxsize=32)
def applicant_feature_mask(names: tuple[str, ...]) -> np.ndarray:
    """Which of a spec's feature columns an applicant has (read-only; one per spec)."""
    mask = np.isin(np.asarray(names), APPLICANT_FEATURES)
    mask.setflags(write=False)
    return mask


@functools.lru_cache(maxsize=32)
def history_feature_columns(names: tuple[str, ...]) -> np.ndarray:
    """The columns of a spec's features an applicant does not have (read-only; one per
    spec): where :func:`applicant_feature_mask` is False."""
    columns = np.flatnonzero(~applicant_feature_mask(names))
    columns.setflags(write=False)
    return columns


@dataclass
class CreditRiskBundle:
    """Everything needed to score, explain and decide, versioned together."""

    customer_spec: FeatureSpec
    invoice_spec: FeatureSpec
    default_model: Classifier | None
    """None in a late-only bundle (the ledger could not support a default model): the
    customer and applicant methods then raise :class:`MissingDefaultModel`."""
    late_model: Classifier
    days_model: QuantileRegressors
    policy: Policy
    default_definition: DefaultDefinition = field(default_factory=DefaultDefinition)
    """What "in default" means for this bundle: the same rule its labels were built with."""
    metadata: dict[str, Any] = field(default_factory=dict)
    _template: ApplicantTemplate | None = field(default=None, repr=False)
    open_invoice_model: OpenInvoiceModel | None = None
    """Invoices open at T, conditional on being open then (None in bundles trained before
    it existed: :meth:`predict_open_invoices` then applies only the known-fact rules)."""

    # --- customers -----------------------------------------------------------------
    @property
    def has_default_model(self) -> bool:
        return self.default_model is not None

    def scoring_model(self) -> Classifier:
        """The default model, or :class:`MissingDefaultModel` naming why there is none."""
        if self.default_model is None:
            raise MissingDefaultModel(self.metadata.get("default_model_skipped"))
        return self.default_model

    def predict_pd_12m(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated 12-month PD for customer feature rows (catalog columns)."""
        return small_batch.predict_proba(self.scoring_model(), self.customer_spec.encode(features))

    def explain(self, features: pd.DataFrame, *, top_n: int = 4) -> list[list[Reason]]:
        """Top factors per row from the model's own contributions, in analyst language."""
        X = self.customer_spec.encode(features)
        return top_reasons(
            small_batch.contributions(self.scoring_model(), X),
            X,
            names=self.customer_spec.names,
            descriptions=self.customer_spec.descriptions,
            top_n=top_n,
        )

    def predict_pd_12m_record(self, record: Mapping[str, Any]) -> float:
        """:meth:`predict_pd_12m` of one customer's features given as a dict (catalog
        names; numbers, text or None), without a DataFrame: the same number."""
        X = self.customer_spec.encode_record(record)
        return float(small_batch.predict_proba(self.scoring_model(), X)[0])

    def explain_record(self, record: Mapping[str, Any], *, top_n: int = 4) -> list[Reason]:
        """:meth:`explain` of one customer's features given as a dict: the same reasons."""
        X = self.customer_spec.encode_record(record)
        return top_reasons(
            small_batch.contributions(self.scoring_model(), X),
            X,
            names=self.customer_spec.names,
            descriptions=self.customer_spec.descriptions,
            top_n=top_n,
        )[0]

    def top_factor_names(self, features: pd.DataFrame, *, top_n: int = 3) -> np.ndarray:
        """Batch form for millions of rows: ``(n, top_n)`` feature names ("" = none), the
        ranking of the model's contributions (:func:`~creditrisk.models.tree_contributions.
        batch_top_factors`: LightGBM's own ranking, from its leaf tables where settled)."""
        X = self.customer_spec.encode(features)
        index, is_reason = batch_top_factors(self.scoring_model(), X, top_n=top_n)
        names = np.asarray(self.customer_spec.names, dtype=object)
        return np.where(is_reason, names[np.clip(index, 0, len(names) - 1)], "")

    # --- invoices ------------------------------------------------------------------
    def predict_invoices(self, invoice_features: pd.DataFrame) -> pd.DataFrame:
        """P(late) and days beyond terms p10/p50/p90 with expected payment dates."""
        X = self.invoice_spec.encode(invoice_features)
        p_late = small_batch.predict_proba(self.late_model, X)
        q = small_batch.predict_quantiles(self.days_model, X) if len(X) else np.zeros((0, 3))
        due = pd.to_datetime(invoice_features["due_date"]).to_numpy(dtype="datetime64[D]")
        days = np.rint(q).astype("int64").astype("timedelta64[D]")
        return pd.DataFrame(
            {
                "p_late": p_late,
                "days_late_p10": q[:, 0],
                "days_late_p50": q[:, 1],
                "days_late_p90": q[:, 2],
                "expected_payment_p10": due + days[:, 0],
                "expected_payment_p50": due + days[:, 1],
                "expected_payment_p90": due + days[:, 2],
            },
            index=invoice_features.index,
        )

    def predict_open_invoices(
        self, invoice_features: pd.DataFrame, *, as_of: date | pd.Timestamp
    ) -> pd.DataFrame:
        """Invoices still open at the end of ``as_of``, predicted conditional on being open then.

        What is known is not predicted: an invoice already past due + grace has ``p_late`` 1,
        and no expected payment date (p10/p50/p90) falls on or before ``as_of``. Same columns
        and index as :meth:`predict_invoices`. With :attr:`open_invoice_model` (every bundle
        trained since it exists) the rest comes from models trained on invoices open at
        month-ends; an older bundle falls back to the at-issue prediction with these rules.
        """
        if self.open_invoice_model is not None:
            return self.open_invoice_model.predict(invoice_features, as_of=as_of)
        out = self.predict_invoices(invoice_features)
        if out.empty:
            return out
        stamp = np.datetime64(pd.Timestamp(as_of).normalize().date(), "D")
        grace = int(self.metadata.get("grace_days", 0))
        due = pd.to_datetime(invoice_features["due_date"]).to_numpy(dtype="datetime64[D]")
        past_due = stamp > due + np.timedelta64(grace, "D")
        out["p_late"] = np.where(past_due, 1.0, out["p_late"].to_numpy(np.float64))
        earliest = stamp + np.timedelta64(1, "D")
        for q in ("p10", "p50", "p90"):
            dates = out[f"expected_payment_{q}"].to_numpy(dtype="datetime64[D]")
            dates = np.maximum(dates, earliest)
            out[f"expected_payment_{q}"] = dates
            out[f"days_late_{q}"] = (dates - due).astype(np.int64).astype(np.float64)
        return out

    def predict_open_invoice_columns(
        self, columns: Mapping[str, Any], n_rows: int, *, as_of: date | pd.Timestamp
    ) -> dict[str, np.ndarray]:
        """:meth:`predict_open_invoices` of a few invoices given as columns (name -> list or
        array, ``due_date`` as dates), as arrays: the same numbers, without frames."""
        if self.open_invoice_model is None:
            frame = self.predict_open_invoices(pd.DataFrame(dict(columns)), as_of=as_of)
            return {name: frame[name].to_numpy() for name in frame.columns}
        return self.open_invoice_model.predict_columns(columns, n_rows, as_of=as_of)

    # --- applicants ----------------------------------------------------------------
    @property
    def template(self) -> ApplicantTemplate:
        if self._template is None:
            self._template = ApplicantTemplate.build()
        return self._template

    def prepare_for_serving(self) -> None:
        """Build the per-bundle tables the one-row paths read (the applicant template, about
        a second of CPU), so a service pays them when it loads the bundle, not on a request."""
        _ = self.template
        if self.default_model is not None:
            history_feature_columns(tuple(self.customer_spec.names))

    def applicant_contributions(self, X: np.ndarray) -> np.ndarray:
        """The default model's contributions with every feature an applicant does not have
        (its history features: null or zero counts) set to 0, so they are never a reason."""
        contributions = np.array(
            small_batch.contributions(self.scoring_model(), X), dtype=np.float64
        )
        contributions[:, history_feature_columns(tuple(self.customer_spec.names))] = 0.0
        return contributions

    def score_applicant(
        self, application: Mapping[str, Any], *, as_of: date, top_n: int = 4
    ) -> ApplicantScore:
        """Online fast path: one applicant dict -> PD, grade, decision, limit, reasons."""
        attributes = dict(application)
        attributes["credit_limit"] = application.get(REQUESTED_LIMIT)
        record = self.template.record(attributes, as_of=as_of)
        X = self.customer_spec.encode_record(admit_record(self.customer_spec, record))
        pd_12m = float(small_batch.predict_proba(self.scoring_model(), X)[0])
        contributions = self.applicant_contributions(X)
        factors = top_reasons(
            contributions, X, names=self.customer_spec.names,
            descriptions=self.customer_spec.descriptions, top_n=top_n,
        )[0]
        decision = self.policy.recommend_limit(
            pd_12m,
            expected_monthly_sales=application.get("expected_monthly_sales"),
            payment_terms_days=application.get("payment_terms_days"),
            requested_limit=application.get("requested_limit"),
            annual_revenue=application.get("annual_revenue"),
            current_exposure=0.0,
            in_default=False,
        )
        return ApplicantScore(
            pd_12m=pd_12m,
            grade=int(decision.grade),
            decision=decision.decision,
            recommended_limit=float(decision.recommended_limit),
            expected_loss=float(decision.expected_loss_amount),
            decision_reasons=tuple((r.code, r.text) for r in decision.reasons),
            factors=tuple(factors),
            features=record,
            policy_version=self.policy.version,
        )

    def score_applications(self, applications: pd.DataFrame) -> pd.DataFrame:
        """Vectorised form (the pyfunc path): one output row per application row."""
        missing = [c for c in APPLICATION_COLUMNS if c not in applications.columns]
        if missing:
            raise KeyError(f"application columns missing: {', '.join(missing)}")
        apps = applications.reset_index(drop=True)
        as_of = pd.to_datetime(apps["as_of"]).dt.normalize()
        frames = []
        for day, rows in apps.groupby(as_of, sort=False).groups.items():
            part = apps.loc[rows].assign(credit_limit=apps.loc[rows, "requested_limit"])
            feats = applicant_features(part, as_of=pd.Timestamp(day))
            feats.index = rows
            frames.append(feats)
        features = pd.concat(frames).sort_index()
        X = self.customer_spec.encode(admit_frame(self.customer_spec, features))
        pd_12m = self.scoring_model().predict_proba(X)
        limits = self.policy.recommend_limits(
            pd_12m,
            expected_monthly_sales=_floats(apps["expected_monthly_sales"]),
            payment_terms_days=_floats(apps["payment_terms_days"]),
            requested_limit=_floats(apps["requested_limit"]),
            annual_revenue=_floats(apps["annual_revenue"]),
            current_exposure=np.zeros(len(apps)),
            in_default=np.zeros(len(apps), dtype=bool),
        )
        factors = top_reasons(
            self.applicant_contributions(X), X, names=self.customer_spec.names,
            descriptions=self.customer_spec.descriptions, top_n=4,
        )
        columns = limits.to_columns()
        return pd.DataFrame(
            {
                "pd_12m": pd_12m,
                "grade": np.asarray(columns["grade"], dtype=np.int64),
                "decision": np.asarray(columns["decision"], dtype=object),
                "recommended_limit": np.asarray(columns["recommended_limit"], dtype=np.float64),
                "expected_loss": np.asarray(columns["expected_loss_amount"], dtype=np.float64),
                "decision_reasons": columns["reason_codes"],
                "top_factors": [format_factors(f) for f in factors],
            }
        )

    def describe(self) -> dict[str, Any]:
        """Metadata for ``GET /v1/model`` and logging."""
        return {
            **self.metadata,
            "policy_version": self.policy.version,
            "default_definition": self.default_definition.to_dict(),
            "applicant_input_ranges": {
                field: list(bounds) for field, bounds in input_ranges(self.customer_spec).items()
            },
            "customer_features": list(self.customer_spec.names),
            "invoice_features": list(self.invoice_spec.names),
        }


def _floats(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


def format_factors(factors: Sequence[Reason]) -> str:
    """``feature:+0.123;feature:-0.045`` (log-odds contributions), stable across paths."""
    return ";".join(f"{r.feature}:{r.contribution:+.4f}" for r in factors)


def nan_to_none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
