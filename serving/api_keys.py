"""API keys: issuing, storing (hashed) and verifying them (no HTTP here: the header handling and
the scope check endpoints depend on live in :mod:`creditrisk.serving.api.auth`).

A key looks like ``cr_<key id>_<secret>``: the 12-hex-character key id is public (it appears
in logs, the decision log and metrics-free access lines); the secret is 32 random bytes
(``secrets.token_urlsafe(32)``, 256 bits of entropy).

Why a single SHA-256 and not scrypt/PBKDF2: slow, salted hashes protect *low-entropy*
human passwords from offline guessing. A 256-bit random secret cannot be guessed whatever
the hash speed, so one SHA-256 (about a microsecond) is as safe here and cheap enough to run
on every request. A per-key salt would add nothing: no two keys share a secret, and
precomputed tables over 2^256 inputs do not exist. The comparison uses
``hmac.compare_digest`` (constant time).

Looking a key up in the database on every request would cost a round trip, so records are
cached in memory for ``cache_seconds`` (default 30 s; a ``cachetools.TTLCache`` bounded to
10,000 keys); the hash is still compared on every request. Consequence: a revoked key stops
working within ``cache_seconds``.

Scopes: ``score`` (decisions), ``read`` (look-ups, decision log), ``admin`` (model reload).
Scopes are explicit: ``admin`` does not imply ``score`` or ``read``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

import anyio.to_thread
from cachetools import TTLCache
from sqlalchemy import Engine, RowMapping, insert, select, update

from creditrisk.serving.errors import AuthenticationError
from creditrisk.serving.tables import api_keys

ApiScope = Literal["score", "read", "admin"]
API_SCOPES: Final[tuple[str, ...]] = get_args(ApiScope)

KEY_PREFIX: Final = "cr"
_TOKEN = re.compile(r"^cr_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_CACHE_MAX_ENTRIES: Final = 10_000
_DUMMY_HASH: Final = "0" * 64


class UnknownScopeError(ValueError):
    """A scope name that is not one of ``score``, ``read``, ``admin``."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"unknown API scope {scope!r}; allowed: {', '.join(API_SCOPES)}")
        self.scope = scope


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """One stored key: its public id, a label for humans, the hash, scopes and lifecycle."""

    key_id: str
    label: str
    key_hash: str
    scopes: frozenset[str]
    created_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyIdentity:
    """Who is calling: what a handler gets from ``require_scope``; never holds the secret."""

    key_id: str
    label: str
    scopes: frozenset[str]


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    """A freshly generated key: ``token`` is shown once to the operator and never stored."""

    token: str
    record: ApiKeyRecord


def validate_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes as a set, rejecting unknown names and an empty set."""
    chosen = frozenset(s.strip() for s in scopes if s.strip())
    for scope in sorted(chosen):
        if scope not in API_SCOPES:
            raise UnknownScopeError(scope)
    if not chosen:
        raise UnknownScopeError("")
    return chosen


def hash_api_key(token: str) -> str:
    """Hex SHA-256 of the whole token (see the module docstring for why this suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_key_id(token: str) -> str | None:
    """The public key id of a well-formed token, None for anything else."""
    match = _TOKEN.fullmatch(token)
    return match.group(1) if match else None


def generate_api_key(
    *, label: str, scopes: Iterable[str], created_at: datetime
) -> IssuedApiKey:
    """A new random key and the record to store for it."""
    key_id = secrets.token_hex(6)
    token = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    record = ApiKeyRecord(
        key_id=key_id,
        label=label,
        key_hash=hash_api_key(token),
        scopes=validate_scopes(scopes),
        created_at=created_at,
    )
    return IssuedApiKey(token=token, record=record)


def seed_entry(record: ApiKeyRecord) -> str:
    """The ``CREDITRISK_API_KEYS`` entry (``KEYID:HASH:scopes``) for a record."""
    return f"{record.key_id}:{record.key_hash}:{','.join(sorted(record.scopes))}"


def insert_api_key(engine: Engine, record: ApiKeyRecord) -> None:
    """Store a key's hash (the token itself is never stored)."""
    if record.created_at is None:
        raise ValueError(f"API key {record.key_id} needs created_at to be stored")
    with engine.begin() as conn:
        conn.execute(
            insert(api_keys).values(
                key_id=record.key_id,
                label=record.label,
                key_hash=record.key_hash,
                scopes=",".join(sorted(record.scopes)),
                created_at=record.created_at,
                revoked_at=record.revoked_at,
            )
        )


def revoke_api_key(engine: Engine, key_id: str, *, revoked_at: datetime) -> bool:
    """Mark a key revoked; False when no such (unrevoked) key exists."""
    with engine.begin() as conn:
        result = conn.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=revoked_at)
        )
    return result.rowcount > 0


def _record_from_row(row: RowMapping) -> ApiKeyRecord:
    scopes_text = str(row["scopes"])
    return ApiKeyRecord(
        key_id=str(row["key_id"]),
        label=str(row["label"]),
        key_hash=str(row["key_hash"]),
        scopes=frozenset(s for s in scopes_text.split(",") if s),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


def load_api_key(engine: Engine, key_id: str) -> ApiKeyRecord | None:
    """The stored record for ``key_id`` (revoked ones included), None when unknown."""
    with engine.connect() as conn:
        row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).mappings().first()
    return _record_from_row(row) if row is not None else None


def list_api_keys(engine: Engine) -> list[ApiKeyRecord]:
    """All stored keys, oldest first (hashes included; never the tokens)."""
    with engine.connect() as conn:
        rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings().all()
    return [_record_from_row(row) for row in rows]


class ApiKeyStore:
    """Verifies presented keys against seeded keys and the ``api_keys`` table (cached)."""

    def __init__(
        self,
        engine: Engine | None,
        *,
        seeded: Sequence[ApiKeyRecord] = (),
        cache_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._seeded = {record.key_id: record for record in seeded}
        # Bounded and expiring: a key id seen once costs one slot for at most cache_seconds.
        self._cache: TTLCache[str, ApiKeyRecord | None] | None = (
            TTLCache(maxsize=_CACHE_MAX_ENTRIES, ttl=cache_seconds, timer=monotonic)
            if cache_seconds > 0
            else None
        )
        self._lock = threading.Lock()

    def _cached(self, key_id: str) -> tuple[bool, ApiKeyRecord | None]:
        seeded = self._seeded.get(key_id)
        if seeded is not None:
            return True, seeded
        if self._cache is None:
            return False, None
        with self._lock:  # TTLCache is not thread-safe
            if key_id in self._cache:
                return True, self._cache[key_id]
        return False, None

    def _load(self, key_id: str) -> ApiKeyRecord | None:
        record = load_api_key(self._engine, key_id) if self._engine is not None else None
        if self._cache is not None:
            with self._lock:
                self._cache[key_id] = record
        return record

    def forget(self, key_id: str) -> None:
        """Drop a cached record (after a revocation in this process)."""
        if self._cache is not None:
            with self._lock:
                self._cache.pop(key_id, None)

    def authenticate(self, token: str) -> ApiKeyIdentity:
        """Identity for ``token`` or AuthenticationError (blocking: may query the database)."""
        key_id = parse_key_id(token)
        if key_id is None:
            return _verify(token, None)
        found, record = self._cached(key_id)
        return _verify(token, record if found else self._load(key_id))

    async def authenticate_async(self, token: str) -> ApiKeyIdentity:
        """Like ``authenticate``; a cache miss runs the database look-up in a worker thread."""
        key_id = parse_key_id(token)
        if key_id is None:
            return _verify(token, None)
        found, record = self._cached(key_id)
        if not found:
            record = await anyio.to_thread.run_sync(self._load, key_id)
        return _verify(token, record)


def _verify(token: str, record: ApiKeyRecord | None) -> ApiKeyIdentity:
    presented_hash = hash_api_key(token)
    expected = record.key_hash if record is not None else _DUMMY_HASH
    matches = hmac.compare_digest(presented_hash, expected)
    if record is None or not matches:
        raise AuthenticationError("invalid API key", key_presented=True)
    if record.revoked_at is not None:
        raise AuthenticationError("API key has been revoked", key_presented=True)
    return ApiKeyIdentity(key_id=record.key_id, label=record.label, scopes=record.scopes)
