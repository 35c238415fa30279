"""Inputs that mean what they say, against a real uvicorn serving the fixture bundle.

A boolean, a numeric string or a fraction where a number or an integer is expected, a number
where a date is expected, a money amount beyond the plausibility bound, a key twice in one
JSON object, a NUL or control character in a customer id: each is a 422 naming the field (or
the key), never a decision and never a 500. Decision answers carry ``Cache-Control: no-store``
and ``X-Content-Type-Options: nosniff``. A repeated POST with the same ``Idempotency-Key``
gets the first decision back; the same key with another body is 422.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from creditrisk.serving.api.entrypoint import build_service, limit_lightgbm_threads
from creditrisk.serving.api.schemas import MAX_MONEY_AMOUNT
from creditrisk.serving.api_keys import IssuedApiKey, generate_api_key
from creditrisk.serving.money import cents
from creditrisk.serving.settings import SeededApiKey, Settings
from tests.serving.bundle_fixture import SERVICE_TODAY, TYPICAL_APPLICATION, ServingWorld
from tests.serving.server import running_server

pytestmark = pytest.mark.slow

NOW = datetime(SERVICE_TODAY.year, SERVICE_TODAY.month, SERVICE_TODAY.day, 12, tzinfo=UTC)
APPLICATION: dict[str, Any] = dict(TYPICAL_APPLICATION)


@pytest.fixture(scope="module")
def key() -> IssuedApiKey:
    return generate_api_key(label="erp", scopes=["score", "read"], created_at=NOW)


@pytest.fixture(scope="module")
def http(
    serving_world: ServingWorld, serving_ledger_url: str, key: IssuedApiKey
) -> Iterator[httpx.Client]:
    settings = Settings(
        database_url=serving_ledger_url,
        model_uri=serving_world.model_uri,
        tracking_uri=serving_world.tracking_uri,
        api_keys=(SeededApiKey(key_id=key.record.key_id, key_hash=key.record.key_hash,
                               scopes=key.record.scopes),),
        reload_poll_seconds=0,
        access_log=False,
    )
    limit_lightgbm_threads()
    with running_server(build_service(settings, clock=lambda: NOW)) as url, httpx.Client(
        base_url=url, timeout=30, headers={"Authorization": f"Bearer {key.token}"}
    ) as client:
        yield client


def refused_fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    return [".".join(str(part) for part in detail["loc"][1:]) for detail in body["details"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expected_monthly_sales", False),  # was read as 0 and changed the decision
        ("annual_revenue", "1e6"),
        ("annual_revenue", True),
        ("requested_limit", "150000"),
        ("external_score", "71"),
        ("payment_terms_days", 30.5),
        ("payment_terms_days", True),
        ("founded_on", 0),
        ("founded_on", 1_000_000_000),
        ("founded_on", "2004-03-01T00:00:00"),
        ("as_of", 0),
        ("requested_limit", MAX_MONEY_AMOUNT * 10),
        ("annual_revenue", 1e306),
        ("industry", "manu\u0000facturing"),
    ],
)
def test_a_value_of_the_wrong_kind_or_size_is_a_422_naming_its_field(
    http: httpx.Client, field: str, value: Any
) -> None:
    response = http.post("/v1/applications", json={**APPLICATION, field: value})
    assert refused_fields(response) == [field]


def test_money_beyond_the_bound_is_422_naming_the_bound_not_an_overflow(
    http: httpx.Client, serving_world: ServingWorld
) -> None:
    customer_id = str(serving_world.ledger.customers["customer_id"].iloc[0])
    for amount in (1e308, 1e306, MAX_MONEY_AMOUNT * 1.01):
        response = http.post(f"/v1/customers/{customer_id}/orders/check",
                             json={"order_amount": amount})
        assert refused_fields(response) == ["order_amount"]
        assert f"{MAX_MONEY_AMOUNT:.0f}" in response.json()["details"][0]["msg"]
    assert cents(1e308) == 1e308  # no OverflowError where a huge amount is rounded
    assert cents(12.345678) == 12.35


def test_a_key_twice_in_one_object_is_refused_naming_the_key(http: httpx.Client) -> None:
    body = json.dumps(APPLICATION)[:-1] + ', "annual_revenue": 1e9}'
    response = http.post("/v1/applications", content=body,
                         headers={"Content-Type": "application/json"})
    assert refused_fields(response) == ["annual_revenue"]
    assert "annual_revenue" in response.json()["message"]


@pytest.mark.parametrize("customer_id", ["C%00001", "C%0A1", "C%7F"])
def test_control_characters_in_a_customer_id_are_422(
    http: httpx.Client, customer_id: str
) -> None:
    assert refused_fields(http.get(f"/v1/customers/{customer_id}/risk")) == ["customer_id"]


@pytest.mark.parametrize("as_of", ["0", "1899-12-31", "20251231", "1e9", "9999-01-01"])
def test_an_implausible_as_of_query_is_422(
    http: httpx.Client, serving_world: ServingWorld, as_of: str
) -> None:
    customer_id = str(serving_world.ledger.customers["customer_id"].iloc[0])
    response = http.get(f"/v1/customers/{customer_id}/risk", params={"as_of": as_of})
    assert refused_fields(response) == ["as_of"]


def test_an_as_of_after_today_plus_the_margin_is_422_and_up_to_it_is_answered(
    http: httpx.Client, serving_world: ServingWorld
) -> None:
    latest = SERVICE_TODAY + timedelta(days=Settings().as_of_max_days_ahead)
    too_late = (latest + timedelta(days=1)).isoformat()
    customer_id = str(serving_world.ledger.customers["customer_id"].iloc[0])
    risk = f"/v1/customers/{customer_id}/risk"
    assert refused_fields(http.get(risk, params={"as_of": too_late})) == ["as_of"]
    assert refused_fields(http.get("/v1/portfolio", params={"as_of": too_late})) == ["as_of"]
    assert refused_fields(
        http.post("/v1/applications", json={**APPLICATION, "as_of": too_late})
    ) == ["as_of"]
    assert latest.isoformat() in http.get(risk, params={"as_of": too_late}).json()["message"]
    assert http.get(risk, params={"as_of": latest.isoformat()}).status_code == 200


def test_decision_answers_are_not_cached_nor_sniffed(http: httpx.Client) -> None:
    response = http.post("/v1/applications", json=APPLICATION)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_repeated_post_with_its_idempotency_key_gets_the_first_decision(
    http: httpx.Client, serving_world: ServingWorld
) -> None:
    key = {"Idempotency-Key": "retry-4711-a"}
    first = http.post("/v1/applications", json=APPLICATION, headers=key)
    again = http.post("/v1/applications", json=APPLICATION, headers=key)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json()  # the same decision id, outputs and reasons
    fresh = http.post("/v1/applications", json=APPLICATION)
    assert fresh.json()["decision_id"] != first.json()["decision_id"]
    other = http.post("/v1/applications", json={**APPLICATION, "requested_limit": 1}, headers=key)
    assert other.status_code == 409, other.text
    assert other.json()["error"] == "idempotency_key_reused"

    customer_id = str(serving_world.ledger.customers["customer_id"].iloc[0])
    order = {"order_amount": 1_000}
    path = f"/v1/customers/{customer_id}/orders/check"
    checked = http.post(path, json=order, headers={"Idempotency-Key": "order-1"})
    assert checked.status_code == 200, checked.text
    assert http.post(path, json=order, headers={"Idempotency-Key": "order-1"}).json() == (
        checked.json()
    )
    assert http.post(path, json=order, headers={"Idempotency-Key": "retry-4711-a"}
                     ).status_code == 409  # the key of another request
    bad = http.post("/v1/applications", json=APPLICATION, headers={"Idempotency-Key": "a b"})
    assert refused_fields(bad) == ["Idempotency-Key"]
