"""Alembic migrations for the creditrisk database (ledger, decisions, scores)."""
