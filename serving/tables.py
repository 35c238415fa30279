"""SQL tables the service owns (SQLAlchemy Core); ``migrations/versions/0002_serving.py``
creates them (``0005_decision_idempotency.py`` adds the idempotency columns) and must stay a
mirror of this file.

- ``api_keys``: who may call the service; only a hash of each key is stored.
- ``decision_log``: every credit decision the service answered, written before the answer
  left. JSON payloads are stored as text (orjson) so SQLite and PostgreSQL behave alike.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, Text

metadata = MetaData()

KEY_ID = String(32)
CUSTOMER_ID = String(64)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", KEY_ID, primary_key=True),
    Column("label", String(200), nullable=False),
    Column("key_hash", String(128), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

decision_log = Table(
    "decision_log",
    metadata,
    Column("decision_id", String(32), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("customer_id", CUSTOMER_ID),
    Column("api_key_id", KEY_ID, nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("policy_version", String(64), nullable=False),
    Column("request_json", Text, nullable=False),
    Column("features_json", Text),
    Column("outputs_json", Text, nullable=False),
    Column("reasons_json", Text),
    Column("idempotency_key", String(128)),  # 0005: a POST's Idempotency-Key header
    Column("request_sha256", String(64)),  # 0005: hash of request_json, to spot a reused key
    Index("ix_decision_log_created_at", "created_at"),
    Index("ix_decision_log_customer_created", "customer_id", "created_at"),
    Index("ux_decision_log_idempotency", "api_key_id", "idempotency_key", unique=True),
)

SERVING_TABLES: dict[str, Table] = {"api_keys": api_keys, "decision_log": decision_log}
