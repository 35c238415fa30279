"""The scoring endpoints end to end: a real uvicorn server over HTTP, the fixture bundle loaded
from a temporary MLflow registry (``models:/creditrisk@champion``) and a SQLite ledger.

Rules guarded: every endpoint answers its happy path with model and policy versions; the
applicant answer equals the bundle's own; keys are checked (401 without or with a bad key,
403 without the scope); bad input is a 422 naming the field; unknown customers and decisions
are 404; no error body carries a stack trace; every decision has exactly one decision-log row,
already there when the answer arrives; moving the alias under load swaps the model without a
failed request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from creditrisk.features.customer import build_features
from creditrisk.ledger.database import make_engine
from creditrisk.models.policy import Policy
from creditrisk.models.pyfunc import save_bundle
from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key
from creditrisk.serving.model_holder import ModelRef
from creditrisk.serving.portfolio import PortfolioCache
from creditrisk.serving.registry import ModelRegistry, ModelUriError, RegistryUri, parse_model_uri
from creditrisk.serving.settings import SeededApiKey, Settings
from creditrisk.serving.tables import decision_log
from tests.serving.bundle_fixture import (
    CHAMPION,
    SERVICE_TODAY,
    TYPICAL_APPLICATION,
    ServingWorld,
    example_applications,
    move_alias,
)
from tests.serving.server import running_server

pytestmark = pytest.mark.slow

NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)
APPLICATION: dict[str, Any] = {**TYPICAL_APPLICATION, "external_reference": "CRM-4711"}


@dataclass(frozen=True)
class Keys:
    full: IssuedApiKey
    score_only: IssuedApiKey
    read_only: IssuedApiKey
    admin: IssuedApiKey

    def seeds(self) -> tuple[SeededApiKey, ...]:
        return tuple(
            SeededApiKey(key_id=k.record.key_id, key_hash=k.record.key_hash,
                         scopes=k.record.scopes)
            for k in (self.full, self.score_only, self.read_only, self.admin)
        )


def header(key: IssuedApiKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.token}"}


@pytest.fixture(scope="module")
def keys() -> Keys:
    def key(label: str, *scopes: str) -> IssuedApiKey:
        return generate_api_key(label=label, scopes=scopes, created_at=NOW)

    return Keys(
        full=key("erp", "score", "read"),
        score_only=key("shop", "score"),
        read_only=key("bi", "read"),
        admin=key("ops", "admin"),
    )


@pytest.fixture(scope="module")
def base_url(
    serving_world: ServingWorld, serving_ledger_url: str, keys: Keys
) -> Iterator[str]:
    settings = Settings(
        database_url=serving_ledger_url,
        model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri,
        api_keys=keys.seeds(),
        reload_poll_seconds=0.3,
        access_log=False,
    )
    limit_lightgbm_threads()
    app = build_service(settings, clock=lambda: NOW)
    with running_server(app) as url:
        yield url


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def customers(serving_world: ServingWorld) -> pd.DataFrame:
    """The ledger's customer features at the service's today (to pick test customers)."""
    return build_features(serving_world.ledger, as_of=SERVICE_TODAY)


def decision_rows(ledger_url: str, decision_id: str | None = None) -> int:
    engine = make_engine(ledger_url)
    try:
        query = select(func.count()).select_from(decision_log)
        if decision_id is not None:
            query = query.where(decision_log.c.decision_id == decision_id)
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def assert_no_trace(response: httpx.Response) -> None:
    text = response.text
    assert "Traceback" not in text
    assert 'File "' not in text
    assert "Error:" not in text.replace("validation_error", "")


# --------------------------------------------------------------------------- happy paths


def test_application_answers_the_bundles_decision_with_versions_and_reasons(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld
) -> None:
    response = http.post("/v1/applications", json=APPLICATION, headers=header(keys.full))
    assert response.status_code == 200, response.text
    body = response.json()
    expected = serving_world.champion.bundle.score_applicant(
        {**APPLICATION, "founded_on": date(2004, 3, 1)}, as_of=SERVICE_TODAY
    )
    assert body["pd_12m"] == pytest.approx(expected.pd_12m, abs=1e-12)
    assert body["grade"] == str(expected.grade)  # grade labels: "1".."10" or "D"
    assert body["grade_name"]
    assert body["currency"] == "EUR"
    assert body["decision"] == expected.decision in (
        "approve", "counter_offer", "refer", "decline"
    )
    assert body["recommended_limit"] == expected.recommended_limit
    assert body["expected_loss"] == expected.expected_loss
    assert [r["code"] for r in body["reasons"]] == [c for c, _ in expected.decision_reasons]
    assert all(r["text"] for r in body["reasons"])
    factors = body["top_factors"]
    assert 1 <= len(factors) <= 4
    assert set(factors[0]) == {"feature", "description", "value", "contribution", "direction"}
    assert all(f["direction"] in ("increases risk", "decreases risk") for f in factors)
    assert body["model_name"] == "creditrisk"
    assert body["model_version"] == serving_world.champion.version
    assert body["policy_version"] == Policy.default().version
    assert body["as_of"] == SERVICE_TODAY.isoformat()  # the app clock's today
    assert body["external_reference"] == "CRM-4711"
    assert len(body["decision_id"]) == 32


def test_customer_risk_rerates_from_the_live_ledger(
    http: httpx.Client, keys: Keys, customers: pd.DataFrame, serving_ledger_url: str
) -> None:
    active = customers[(customers["open_balance"] > 0) & (customers["credit_limit"] > 0)]
    customer_id = str(active.index[0])
    row = active.iloc[0]
    response = http.get(f"/v1/customers/{customer_id}/risk", headers=header(keys.read_only))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["customer_id"] == customer_id
    assert body["as_of"] == SERVICE_TODAY.isoformat()
    assert 0.0 <= body["pd_12m"] <= 1.0
    assert body["grade"] in {*(str(g) for g in range(1, 11)), "D"}
    assert body["currency"] == "EUR"
    assert body["exposure"] == pytest.approx(row["open_balance"], abs=0.005)
    assert body["overdue_amount"] == pytest.approx(row["overdue_balance"], abs=0.005)
    assert body["worst_days_past_due"] == row["worst_days_past_due"]
    assert body["current_limit"] == row["credit_limit"]
    assert body["open_invoice_count"] >= 1
    assert 0.0 <= body["p_late_open_exposure_weighted"] <= 1.0
    assert 0.0 <= body["p_late_open_invoice_mean"] <= 1.0
    assert body["recommended_limit"] >= 0
    assert body["limit_decision"] in ("approve", "counter_offer", "refer", "decline")
    assert body["reasons"]
    assert body["top_factors"]
    stored = http.get(f"/v1/decisions/{body['decision_id']}", headers=header(keys.read_only))
    assert stored.json()["kind"] == "customer_risk"
    assert stored.json()["customer_id"] == customer_id
    assert decision_rows(serving_ledger_url, body["decision_id"]) == 1

    earlier = http.get(f"/v1/customers/{customer_id}/risk", params={"as_of": "2024-06-30"},
                       headers=header(keys.read_only))
    assert earlier.status_code == 200
    assert earlier.json()["as_of"] == "2024-06-30"


def test_order_check_releases_within_the_limit_and_holds_beyond_it(
    http: httpx.Client, keys: Keys, customers: pd.DataFrame
) -> None:
    clean = customers[
        (customers["credit_limit"] > customers["open_balance"] + 2_000)
        & (customers["worst_days_past_due"] <= 0)
    ]
    customer_id = str(clean.index[0])
    headroom = float(clean.iloc[0]["credit_limit"] - clean.iloc[0]["open_balance"])
    path = f"/v1/customers/{customer_id}/orders/check"
    small = http.post(path, json={"order_amount": 1_000, "order_reference": "SO-1"},
                      headers=header(keys.score_only))
    assert small.status_code == 200, small.text
    small_body = small.json()
    codes = [r["code"] for r in small_body["reasons"]]
    if small_body["grade"] not in ("10", "D") and not small_body["in_default"]:
        assert small_body["action"] == "release", small_body
        assert codes == ["WITHIN_LIMIT"]
    assert small_body["new_exposure"] == pytest.approx(small_body["open_exposure"] + 1_000)
    assert small_body["order_reference"] == "SO-1"

    big = http.post(path, json={"order_amount": headroom + 10_000},
                    headers=header(keys.score_only))
    assert big.status_code == 200
    big_body = big.json()
    assert big_body["action"] == "hold"
    assert "LIMIT_EXCEEDED" in [r["code"] for r in big_body["reasons"]]
    assert big_body["limit_excess"] == pytest.approx(10_000, abs=0.01)


def test_invoice_predictions_list_open_invoices_with_payment_date_intervals(
    http: httpx.Client, keys: Keys, customers: pd.DataFrame
) -> None:
    customer_id = str(customers[customers["open_balance"] > 0].index[0])
    response = http.get(f"/v1/customers/{customer_id}/invoices/predictions",
                        headers=header(keys.read_only))
    assert response.status_code == 200, response.text
    body = response.json()
    invoices = body["invoices"]
    assert invoices
    assert body["currency"] == "EUR"
    assert sum(i["open_amount"] for i in invoices) == pytest.approx(
        customers.loc[customer_id, "open_balance"], abs=0.005 * len(invoices)
    )
    for invoice in invoices:
        assert invoice["customer_id"] == customer_id
        assert 0.0 <= invoice["p_late"] <= 1.0
        assert SERVICE_TODAY.isoformat() < invoice["expected_payment_p10"]
        assert invoice["expected_payment_p10"] <= invoice["expected_payment_p50"]
        assert invoice["expected_payment_p50"] <= invoice["expected_payment_p90"]
        assert invoice["expected_overdue_amount"] == pytest.approx(
            invoice["open_amount"] * invoice["p_late"], abs=0.01
        )
        for money in ("amount", "open_amount", "expected_overdue_amount"):
            assert round(invoice[money], 2) == invoice[money]  # cents, no float noise
        assert invoice["days_past_due"] >= 0


def test_worklist_lists_customers_by_money_at_stake_with_a_next_step(
    http: httpx.Client, keys: Keys, customers: pd.DataFrame
) -> None:
    """One row per customer (not per invoice), customers in default apart, each with grade,
    PD and a dunning step; no expected payment date on or before the as-of date."""
    response = http.get("/v1/worklist", params={"limit": 25}, headers=header(keys.read_only))
    assert response.status_code == 200, response.text
    body = response.json()
    items = body["items"]
    assert body["currency"] == "EUR"
    assert len(items) == 25 < body["customer_count"]
    ids = [i["customer_id"] for i in items]
    assert len(set(ids)) == len(ids)
    stakes = [i["expected_overdue_30d"] for i in items]
    assert stakes == sorted(stakes, reverse=True)
    steps = {"reminder", "call", "hold_deliveries", "hand_to_collections", "write_off_review"}
    for item in items:
        assert not item["in_default"]
        assert item["grade"] in {str(g) for g in range(1, 11)}
        assert item["overdue_amount"] > 0 or item["soon_due_amount"] > 0
        assert item["next_step"] in steps
        assert item["next_expected_payment"] is None or (
            item["next_expected_payment"] > SERVICE_TODAY.isoformat()
        )
    assert body["in_default"], "the fixture ledger has customers in default"
    for item in body["in_default"]:
        assert item["in_default"]
        assert (item["grade"], item["pd_12m"]) == ("D", 1.0)
        assert item["next_step"] in ("hand_to_collections", "write_off_review")


def test_every_customer_in_default_is_grade_d_with_pd_1_and_no_credit(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld
) -> None:
    """What is known is not predicted (issue 8.1): through HTTP, on the served bundle."""
    worklist = http.get("/v1/worklist", params={"limit": 5}, headers=header(keys.full)).json()
    customer_id = worklist["in_default"][0]["customer_id"]
    risk = http.get(f"/v1/customers/{customer_id}/risk", headers=header(keys.full)).json()
    assert risk["in_default"] is True
    assert (risk["pd_12m"], risk["grade"], risk["grade_name"]) == (1.0, "D", "in default")
    assert 0.0 <= risk["model_pd_12m"] < 1.0
    assert risk["recommended_limit"] == 0
    assert risk["limit_decision"] == "decline"
    lgd = serving_world.champion.bundle.policy.limits.lgd
    assert risk["expected_loss"] == pytest.approx(lgd * max(risk["exposure"], 0), abs=0.01)
    order = http.post(f"/v1/customers/{customer_id}/orders/check", json={"order_amount": 1},
                      headers=header(keys.full)).json()
    assert order["action"] == "hold"
    assert "IN_DEFAULT" in [r["code"] for r in order["reasons"]]
    assert order["grade"] == "D"


def test_portfolio_sums_the_book(
    http: httpx.Client, keys: Keys, customers: pd.DataFrame
) -> None:
    response = http.get("/v1/portfolio", headers=header(keys.read_only))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["as_of"] == SERVICE_TODAY.isoformat()
    assert body["customer_count"] == len(customers)
    assert body["currency"] == "EUR"
    assert body["open_balance"] == pytest.approx(customers["open_balance"].sum())
    assert body["dso_days"] == pytest.approx(  # rounded to a tenth of a day
        customers["open_balance"].sum() / customers["invoiced_amount_90d"].sum() * 90, abs=0.05
    )
    aging = {b["bucket"]: b for b in body["aging"]}
    assert list(aging) == ["current", "1_30", "31_60", "61_90", "over_90"]
    assert sum(b["amount"] for b in aging.values()) == pytest.approx(body["open_balance"])
    assert sum(b["share"] for b in aging.values()) == pytest.approx(1.0, abs=5e-4)
    assert sum(g["customer_count"] for g in body["grade_mix"]) == len(customers)
    assert sum(g["exposure"] for g in body["grade_mix"]) == pytest.approx(body["open_balance"])
    assert 0 < body["expected_loss"] < 0.6 * body["open_balance"]
    grades = {g["grade"]: g for g in body["grade_mix"]}
    assert list(grades)[-1] == "D"
    assert grades["D"]["customer_count"] == body["customers_in_default"] > 0


def test_model_info_names_version_run_metrics_and_features(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld
) -> None:
    response = http.get("/v1/model", headers=header(keys.read_only))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "creditrisk"
    assert body["model_version"] == serving_world.champion.version
    assert body["run_id"] == serving_world.champion.run_id
    assert body["training_metrics"]["default_test_roc_auc"] == 0.8
    assert body["policy_version"] == Policy.default().version
    features = {f["name"]: f for f in body["customer_features"]}
    assert features["late_share_365d"]["direction"] == 1
    assert features["late_share_365d"]["description"]
    assert body["invoice_features"]
    inputs = {i["field"]: i for i in body["applicant_inputs"]}
    spec = serving_world.champion.bundle.customer_spec
    assert (inputs["external_score"]["low"], inputs["external_score"]["high"]) == (
        spec.training_range("external_score")
    )
    assert inputs["external_score"]["outside_range"] == "refused"
    assert inputs["founded_on"]["feature"] == "company_age_years"
    definition = serving_world.champion.bundle.default_definition
    assert body["default_definition"] == {
        "days_past_due": definition.days_past_due, "event_types": list(definition.event_types)
    }


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("POST", "/v1/applications", APPLICATION),
        ("GET", "/v1/customers/C00000001/risk", None),
        ("POST", "/v1/customers/C00000001/orders/check", {"order_amount": 10}),
        ("GET", "/v1/customers/C00000001/invoices/predictions", None),
        ("GET", "/v1/worklist", None),
        ("GET", "/v1/portfolio", None),
        ("GET", "/v1/model", None),
    ],
)
def test_every_endpoint_needs_a_valid_key(
    http: httpx.Client, method: str, path: str, payload: dict[str, Any] | None
) -> None:
    missing = http.request(method, path, json=payload)
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthenticated"
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = http.request(method, path, json=payload,
                         headers={"Authorization": "Bearer cr_0123456789ab_" + "x" * 43})
    assert wrong.status_code == 401
    assert_no_trace(missing)
    assert_no_trace(wrong)


@pytest.mark.parametrize(
    ("method", "path", "payload", "key_name"),
    [
        ("POST", "/v1/applications", APPLICATION, "read_only"),
        ("POST", "/v1/customers/C00000001/orders/check", {"order_amount": 10}, "read_only"),
        ("GET", "/v1/customers/C00000001/risk", None, "score_only"),
        ("GET", "/v1/portfolio", None, "score_only"),
        ("POST", "/v1/applications", APPLICATION, "admin"),
    ],
)
def test_a_key_without_the_scope_is_forbidden(
    http: httpx.Client, keys: Keys, method: str, path: str, payload: dict[str, Any] | None,
    key_name: str,
) -> None:
    response = http.request(method, path, json=payload, headers=header(getattr(keys, key_name)))
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requested_limit": -5}, "requested_limit"),
        ({"annual_revenue": -1}, "annual_revenue"),
        ({"founded_on": "2020-13-45"}, "founded_on"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2003-01-01"}, "as_of"),  # before founded_on
        ({"founded_on": "2026-06-01"}, "founded_on"),  # after the service's today
        ({"founded_on": "1066-10-14"}, "founded_on"),  # outside the supported dates
        ({"country": "Germany"}, "country"),
        ({"payment_terms_days": 400}, "payment_terms_days"),
        ({"expected_monthly_sales": float("inf")}, "expected_monthly_sales"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_application_input_is_a_422_naming_the_field(
    http: httpx.Client, keys: Keys, serving_ledger_url: str, change: dict[str, Any], field: str
) -> None:
    before = decision_rows(serving_ledger_url)
    content = json.dumps({**APPLICATION, **change})  # inf is written as Infinity
    response = http.post("/v1/applications", content=content,
                         headers={**header(keys.full), "Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert field in {d["loc"][-1] for d in body["details"]}
    assert "Germany" not in response.text  # submitted values are not echoed
    assert_no_trace(response)
    assert decision_rows(serving_ledger_url) == before  # no decision was made


def test_an_applicant_input_outside_the_training_range_is_a_422_naming_field_and_range(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld, serving_ledger_url: str
) -> None:
    """Never silently extrapolated: a bureau score of 900 when training saw 1-99."""
    low, high = serving_world.champion.bundle.customer_spec.training_range("external_score")
    before = decision_rows(serving_ledger_url)
    response = http.post("/v1/applications", json={**APPLICATION, "external_score": 900},
                         headers=header(keys.full))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["details"][0]["loc"] == ["body", "external_score"]
    assert f"{low:g}" in body["details"][0]["msg"]
    assert f"{high:g}" in body["details"][0]["msg"]
    assert decision_rows(serving_ledger_url) == before
    inside = http.post("/v1/applications", json={**APPLICATION, "external_score": high},
                       headers=header(keys.full))
    assert inside.status_code == 200, inside.text


def test_bad_order_and_query_input_is_a_422(http: httpx.Client, keys: Keys) -> None:
    negative = http.post("/v1/customers/C00000001/orders/check", json={"order_amount": -1},
                         headers=header(keys.full))
    assert negative.status_code == 422
    assert negative.json()["details"][0]["loc"] == ["body", "order_amount"]
    extra = http.post("/v1/customers/C00000001/orders/check",
                      json={"order_amount": 1, "rush": True}, headers=header(keys.full))
    assert extra.status_code == 422
    bad_date = http.get("/v1/customers/C00000001/risk", params={"as_of": "31.12.2025"},
                        headers=header(keys.full))
    assert bad_date.status_code == 422
    assert bad_date.json()["details"][0]["loc"] == ["query", "as_of"]
    too_many = http.get("/v1/worklist", params={"limit": 0}, headers=header(keys.full))
    assert too_many.status_code == 422


def test_a_customer_before_onboarding_is_a_422_on_as_of(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld
) -> None:
    known = serving_world.ledger.customers
    late = known[known["onboarded_on"] > pd.Timestamp("2024-06-30")].iloc[0]
    response = http.get(f"/v1/customers/{late['customer_id']}/risk",
                        params={"as_of": "2024-01-31"}, headers=header(keys.full))
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["query", "as_of"]


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/v1/customers/C99999999/risk", None),
        ("POST", "/v1/customers/C99999999/orders/check", {"order_amount": 10}),
        ("GET", "/v1/customers/C99999999/invoices/predictions", None),
    ],
)
def test_an_unknown_customer_is_a_404(
    http: httpx.Client, keys: Keys, method: str, path: str, payload: dict[str, Any] | None
) -> None:
    response = http.request(method, path, json=payload, headers=header(keys.full))
    assert response.status_code == 404
    assert response.json()["error"] == "customer_not_found"
    assert_no_trace(response)


def test_an_unknown_decision_is_a_404(http: httpx.Client, keys: Keys) -> None:
    response = http.get(f"/v1/decisions/{'0' * 32}", headers=header(keys.read_only))
    assert response.status_code == 404
    assert response.json()["error"] == "decision_not_found"


# --------------------------------------------------------------------------- decision log


def test_each_decision_has_exactly_one_log_row_written_before_the_answer(
    http: httpx.Client, keys: Keys, serving_ledger_url: str, customers: pd.DataFrame
) -> None:
    customer_id = str(customers.index[3])
    before = decision_rows(serving_ledger_url)
    ids = []
    for n in range(5):
        answer = http.post("/v1/applications",
                           json={**APPLICATION, "requested_limit": 10_000 * (n + 1)},
                           headers=header(keys.full))
        ids.append(answer.json()["decision_id"])
        # The row is on file the moment the answer is in our hands.
        assert decision_rows(serving_ledger_url, ids[-1]) == 1
    order = http.post(f"/v1/customers/{customer_id}/orders/check", json={"order_amount": 5},
                      headers=header(keys.full))
    ids.append(order.json()["decision_id"])
    assert decision_rows(serving_ledger_url, ids[-1]) == 1
    assert decision_rows(serving_ledger_url) == before + 6
    assert len(set(ids)) == 6
    stored = http.get(f"/v1/decisions/{ids[0]}", headers=header(keys.read_only)).json()
    assert stored["kind"] == "application"
    assert stored["request"]["requested_limit"] == 10_000
    assert stored["api_key_id"] == keys.full.record.key_id
    assert stored["features"]["company_age_years"] > 21
    assert stored["reasons"]["decision"]
    assert stored["reasons"]["factors"]


def test_portfolio_expected_loss_covers_the_customers_in_default(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld
) -> None:
    """Expected loss >= LGD x exposure of the customers in default (they count at PD 1)."""
    body = http.get("/v1/portfolio", headers=header(keys.read_only)).json()
    lgd = serving_world.champion.bundle.policy.limits.lgd
    assert body["exposure_in_default"] > 0
    assert body["expected_loss"] >= lgd * body["exposure_in_default"]


# --------------------------------------------------------------------------- model swap


def test_moving_the_alias_swaps_the_model_under_load_without_a_failed_request(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld
) -> None:
    champion, challenger = serving_world.champion, serving_world.challenger
    statuses: list[int] = []
    versions: list[str] = []
    done = threading.Event()

    def fire(base_url: str) -> None:
        with httpx.Client(base_url=base_url, timeout=30) as client:
            while not done.is_set():
                answer = client.post("/v1/applications", json=APPLICATION,
                                     headers=header(keys.full))
                statuses.append(answer.status_code)
                if answer.status_code == 200:
                    versions.append(answer.json()["model_version"])

    def wait_for(version: str) -> None:
        deadline = time.monotonic() + 30
        while not versions or versions[-1] != version:
            assert time.monotonic() < deadline, f"never switched to version {version}"
            time.sleep(0.05)

    clients = [threading.Thread(target=fire, args=(str(http.base_url),)) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        wait_for(champion.version)
        move_alias(challenger, CHAMPION)  # a promotion: the poller follows the alias
        wait_for(challenger.version)
        move_alias(champion, CHAMPION)
        reload = http.post("/v1/admin/reload", headers=header(keys.admin))  # no waiting
        assert reload.status_code == 200
        assert reload.json()["current_version"] == champion.version
        wait_for(champion.version)
        time.sleep(0.2)
    finally:
        move_alias(champion, CHAMPION)
        done.set()
        for client in clients:
            client.join()
    assert statuses
    assert set(statuses) == {200}
    switches = [v for i, v in enumerate(versions) if i == 0 or versions[i - 1] != v]
    assert switches[:3] == [champion.version, challenger.version, champion.version]


def test_applicant_answers_match_the_pyfunc_batch_path(
    http: httpx.Client, keys: Keys, serving_world: ServingWorld
) -> None:
    """The API's dict fast path gives the pyfunc's (DataFrame) answer for the same rows."""
    rows = example_applications()
    batch = serving_world.champion.bundle.score_applications(rows)
    for i, row in rows.iterrows():
        payload = {
            k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in row.to_dict().items()
        }
        answer = http.post("/v1/applications", json=payload, headers=header(keys.full))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["pd_12m"] == pytest.approx(batch.loc[i, "pd_12m"], abs=1e-12)
        assert body["grade"] == str(batch.loc[i, "grade"])
        assert body["decision"] == batch.loc[i, "decision"]
        assert body["recommended_limit"] == batch.loc[i, "recommended_limit"]


# --------------------------------------------------------------------------- model sources


def test_model_uris_are_parsed_or_refused_by_name() -> None:
    assert parse_model_uri("models:/creditrisk@champion") == RegistryUri("creditrisk", "champion")
    assert parse_model_uri("models:/creditrisk/7") == RegistryUri("creditrisk", version="7")
    assert parse_model_uri("/srv/models/bundle.pkl") is None
    with pytest.raises(ModelUriError, match="models:/creditrisk"):
        parse_model_uri("models:/creditrisk")


def test_the_resolver_pins_the_alias_to_its_version(serving_world: ServingWorld) -> None:
    registry = ModelRegistry(serving_world.tracking_uri)
    champion = serving_world.champion
    assert registry.resolve(serving_world.model_uri) == ModelRef(
        f"models:/creditrisk/{champion.version}", champion.version
    )
    served = registry.load(f"models:/creditrisk/{champion.version}")
    assert served.run_id == champion.run_id
    assert served.training_metrics == {"default_test_roc_auc": 0.8, "late_test_roc_auc": 0.75}


def test_a_local_bundle_file_is_served_and_versioned_by_its_content(
    serving_world: ServingWorld, tmp_path: Path
) -> None:
    registry = ModelRegistry(serving_world.tracking_uri)
    path = save_bundle(serving_world.champion.bundle, tmp_path / "bundle.pkl")
    first = registry.resolve(str(path))
    served = registry.load(str(path))
    assert served.model_version == first.version
    assert first.version.startswith("local-")
    rows = serving_world.champion.bundle.score_applications(example_applications())
    assert np.allclose(served.bundle.score_applications(example_applications())["pd_12m"],
                       rows["pd_12m"], rtol=0, atol=1e-12)
    save_bundle(serving_world.challenger.bundle, path)  # replaced in place: a new version
    assert registry.resolve(str(path)).version != first.version
    with pytest.raises(ModelUriError, match="no such file"):
        registry.resolve(str(tmp_path / "missing.pkl"))


# --------------------------------------------------------------------------- portfolio cache


def test_the_portfolio_cache_computes_once_per_key_until_it_expires() -> None:
    now = {"t": 0.0}
    cache: PortfolioCache[str] = PortfolioCache(ttl_seconds=60, monotonic=lambda: now["t"])
    calls: list[str] = []

    def compute(label: str) -> str:
        calls.append(label)
        time.sleep(0.05)  # long enough for the other threads to pile up on the key
        return label

    threads = [threading.Thread(target=cache.get, args=(("v1", "2025-12-31"),
                                                       lambda: compute("first")))
               for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["first"]
    assert cache.get(("v2", "2025-12-31"), lambda: compute("new version")) == "new version"
    now["t"] = 61.0
    assert cache.get(("v1", "2025-12-31"), lambda: compute("expired")) == "expired"
    assert calls == ["first", "new version", "expired"]
