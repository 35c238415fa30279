"""The decision log: each decision is one committed row before the call returns, JSON
payloads round-trip identically on SQLite and PostgreSQL, unknown ids are 404, and the
migration creates exactly the tables and indexes ``serving/tables.py`` describes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel
from sqlalchemy import Engine, func, inspect, select

from creditrisk.ledger.database import make_engine, upgrade_database
from creditrisk.serving.api.app import create_app
from creditrisk.serving.api.errors import status_of
from creditrisk.serving.api_keys import generate_api_key
from creditrisk.serving.decision_log import (
    DecisionLog,
    DecisionRecord,
    InvalidDecisionKindError,
    get_decision,
    record_decision,
)
from creditrisk.serving.errors import DecisionNotFound
from creditrisk.serving.settings import SeededApiKey, Settings
from creditrisk.serving.tables import SERVING_TABLES, decision_log

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")  # starlette 1.x prefers httpx2
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 31, 14, 5, 9, 123000, tzinfo=UTC)


class Applicant(BaseModel):
    company: str
    requested_limit: float


def sample_record(**overrides: Any) -> DecisionRecord:
    fields: dict[str, Any] = {
        "kind": "application",
        "api_key_id": "0123456789ab",
        "model_name": "creditrisk",
        "model_version": "7",
        "policy_version": "policy-2026-03",
        "request": Applicant(company="Acme GmbH", requested_limit=50_000.0),
        "outputs": {"pd_12m": np.float64(0.0312), "grade": 4, "decision": "approve"},
        "features": {"days_beyond_terms_mean": np.float32(3.5), "tenure_days": np.int64(812),
                     "as_of": date(2026, 3, 31), "missing": float("nan")},
        "reasons": [{"feature": "days_beyond_terms_mean", "direction": "up", "weight": 0.4}],
        "customer_id": "C-001",
    }
    fields.update(overrides)
    return DecisionRecord(**fields)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_recorded_decision_reads_back_identically(engine: Engine) -> None:
    decision_id = record_decision(engine, sample_record(), created_at=NOW)
    stored = get_decision(engine, decision_id)
    assert len(decision_id) == 32
    assert int(decision_id, 16) >= 0
    assert stored.created_at == NOW
    assert stored.created_at.tzinfo is not None
    assert (stored.kind, stored.customer_id, stored.api_key_id) == (
        "application", "C-001", "0123456789ab",
    )
    assert (stored.model_name, stored.model_version, stored.policy_version) == (
        "creditrisk", "7", "policy-2026-03",
    )
    assert stored.request == {"company": "Acme GmbH", "requested_limit": 50000.0}
    assert stored.outputs == {"pd_12m": 0.0312, "grade": 4, "decision": "approve"}
    assert stored.features == {
        "days_beyond_terms_mean": 3.5, "tenure_days": 812, "as_of": "2026-03-31", "missing": None,
    }
    assert stored.reasons == [
        {"feature": "days_beyond_terms_mean", "direction": "up", "weight": 0.4}
    ]


def test_each_decision_is_committed_before_the_call_returns(database_url: str) -> None:
    """A second, independent engine sees the row as soon as record_decision returned."""
    upgrade_database(database_url)
    writer, reader = make_engine(database_url), make_engine(database_url)
    try:
        ids = [
            record_decision(writer, sample_record(customer_id=f"C-{i}"), created_at=NOW)
            for i in range(3)
        ]
        with reader.connect() as conn:
            count = conn.execute(select(func.count()).select_from(decision_log)).scalar_one()
        assert count == 3
        assert len(set(ids)) == 3
    finally:
        writer.dispose()
        reader.dispose()


def test_optional_payloads_stay_null_and_other_timezones_become_utc(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    decision_id = record_decision(
        engine,
        sample_record(features=None, reasons=None, customer_id=None, kind="order_check"),
        created_at=datetime(2026, 3, 31, 16, 5, 9, 123000, tzinfo=paris),
    )
    stored = get_decision(engine, decision_id)
    assert (stored.features, stored.reasons, stored.customer_id) == (None, None, None)
    assert stored.created_at == NOW


def test_unknown_and_malformed_ids_are_not_found(engine: Engine) -> None:
    for decision_id in ("0" * 32, "not-an-id", "'; DROP TABLE decision_log; --"):
        with pytest.raises(DecisionNotFound) as info:
            get_decision(engine, decision_id)
        assert status_of(info.value) == (404, "decision_not_found")


@pytest.mark.parametrize("kind", ["", "Application", "order check", "x" * 33])
def test_decision_kind_must_be_a_short_snake_case_word(kind: str, sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    with pytest.raises(InvalidDecisionKindError):
        record_decision(engine, sample_record(kind=kind), created_at=NOW)
    engine.dispose()


def test_unserialisable_payload_is_refused_with_its_type(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    with pytest.raises(TypeError, match="object"):
        record_decision(engine, sample_record(outputs={"x": object()}), created_at=NOW)
    engine.dispose()


def test_decision_log_counts_what_it_records(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    kinds: list[str] = []
    log = DecisionLog(engine, clock=lambda: NOW, on_recorded=kinds.append)
    decision_id = log.record(sample_record(kind="customer_risk"))
    assert kinds == ["customer_risk"]
    assert log.get(decision_id).created_at == NOW
    engine.dispose()


def test_migration_matches_the_table_definitions(database_url: str) -> None:
    """serving/tables.py mirrors migrations/versions/0002_serving.py: same columns,
    nullability, primary keys and indexes."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        for name, table in SERVING_TABLES.items():
            reflected = {c["name"]: c for c in inspector.get_columns(name)}
            assert set(reflected) == {c.name for c in table.columns}, name
            for column in table.columns:
                assert reflected[column.name]["nullable"] == column.nullable, column
            assert inspector.get_pk_constraint(name)["constrained_columns"] == [
                c.name for c in table.primary_key.columns
            ]
            reflected_indexes = {
                i["name"]: list(i["column_names"]) for i in inspector.get_indexes(name)
            }
            assert reflected_indexes == {
                i.name: [c.name for c in i.columns] for i in table.indexes
            }, name
    finally:
        engine.dispose()


def test_migration_downgrades_cleanly(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    upgrade_database(sqlite_url, "head")  # idempotent
    from alembic import command
    from alembic.config import Config

    from creditrisk.ledger.database import migrations_path

    config = Config()
    config.set_main_option("script_location", str(migrations_path()))
    config.set_main_option("sqlalchemy.url", sqlite_url)
    command.downgrade(config, "0001_ledger")
    engine = make_engine(sqlite_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert "decision_log" not in tables
    assert "api_keys" not in tables
    assert "invoices" in tables


def test_get_decision_route_needs_read_scope_and_404s_unknown_ids(tmp_path: Path) -> None:
    reader = generate_api_key(label="r", scopes=["read"], created_at=NOW)
    scorer = generate_api_key(label="s", scopes=["score"], created_at=NOW)
    seeds = tuple(
        SeededApiKey(key_id=k.record.key_id, key_hash=k.record.key_hash, scopes=k.record.scopes)
        for k in (reader, scorer)
    )
    url = f"sqlite:///{tmp_path / 'svc.db'}"
    app = create_app(Settings(database_url=url, api_keys=seeds))
    with TestClient(app) as client:
        decision_id = app.state.decision_log.record(sample_record())
        read = {"X-API-Key": reader.token}
        response = client.get(f"/v1/decisions/{decision_id}", headers=read)
        assert response.status_code == 200
        body = response.json()
        assert body["decision_id"] == decision_id
        assert body["outputs"]["decision"] == "approve"
        assert body["model_version"] == "7"

        assert client.get(f"/v1/decisions/{decision_id}").status_code == 401
        forbidden = client.get(f"/v1/decisions/{decision_id}", headers={"X-API-Key": scorer.token})
        assert forbidden.status_code == 403

        missing = client.get(f"/v1/decisions/{'a' * 32}", headers=read)
        assert missing.status_code == 404
        assert missing.json()["error"] == "decision_not_found"

        malformed = client.get("/v1/decisions/xyz", headers=read)
        assert malformed.status_code == 422
        assert malformed.json()["details"][0]["loc"] == ["path", "decision_id"]
