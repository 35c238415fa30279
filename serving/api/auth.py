"""API-key authentication for the routes, through ``fastapi.security``.

A key is presented either as ``Authorization: Bearer <key>`` (:class:`HTTPBearer`) or as
``X-API-Key: <key>`` (:class:`APIKeyHeader`). Both schemes appear in the OpenAPI document,
so ``/docs`` shows an Authorize button and a generated client knows where the key goes.
Checking the key (hash, constant-time comparison, revocation, cache) is
:class:`creditrisk.serving.api_keys.ApiKeyStore`'s job; this module only reads the headers
and demands a scope.

Scopes: ``score`` (decisions), ``read`` (look-ups, decision log), ``admin`` (model reload).
Scopes are explicit: ``admin`` does not imply ``score`` or ``read``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Final

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from creditrisk.serving.api.observability import API_KEY_ID_STATE_KEY
from creditrisk.serving.api_keys import (
    API_SCOPES,
    ApiKeyIdentity,
    ApiKeyStore,
    ApiScope,
    UnknownScopeError,
)
from creditrisk.serving.errors import AuthenticationError, MissingScopeError

API_KEY_HEADER: Final = "X-API-Key"
MISSING_KEY_MESSAGE: Final = (
    "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
)

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="BearerKey",
    description="The API key as a bearer token: `Authorization: Bearer cr_...`.",
)
header_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKeyHeader",
    description="The API key in its own header: `X-API-Key: cr_...`.",
)

BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
HeaderKey = Annotated[str | None, Depends(header_scheme)]


MALFORMED_AUTHORIZATION_MESSAGE: Final = (
    "the Authorization header is not 'Bearer <key>'; send the key as a bearer token or in "
    "X-API-Key"
)
CONFLICTING_KEYS_MESSAGE: Final = (
    "two different API keys: 'Authorization: Bearer' and 'X-API-Key' disagree; send one"
)


def presented_key(
    bearer: HTTPAuthorizationCredentials | None,
    header: str | None,
    *,
    authorization_sent: bool = False,
) -> str | None:
    """The key the caller sent, in either header (the same key in both is fine).

    Ambiguous credentials are refused, never resolved by picking one: an ``Authorization``
    header that is not a bearer token (``authorization_sent`` without ``bearer``), or two
    different keys, raise :class:`AuthenticationError`.
    """
    from_bearer = bearer.credentials.strip() if bearer is not None else ""
    from_header = header.strip() if header is not None else ""
    if authorization_sent and not from_bearer:
        raise AuthenticationError(MALFORMED_AUTHORIZATION_MESSAGE, key_presented=True)
    if from_bearer and from_header and from_bearer != from_header:
        raise AuthenticationError(CONFLICTING_KEYS_MESSAGE, key_presented=True)
    return from_bearer or from_header or None


async def authenticate(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None,
    header: str | None,
    scope: ApiScope,
) -> ApiKeyIdentity:
    """The caller behind the presented key, holding ``scope``.

    401 (with ``WWW-Authenticate``) when the key is missing, malformed, unknown or revoked;
    403 when it is valid but lacks ``scope``. The key id is put on ``request.state`` so the
    access log can name the caller (never the key)."""
    token = presented_key(bearer, header, authorization_sent="authorization" in request.headers)
    if token is None:
        raise AuthenticationError(MISSING_KEY_MESSAGE, key_presented=False)
    store: ApiKeyStore = request.app.state.api_key_store
    identity = await store.authenticate_async(token)
    setattr(request.state, API_KEY_ID_STATE_KEY, identity.key_id)
    if scope not in identity.scopes:
        raise MissingScopeError(identity.key_id, scope)
    return identity


def require_scope(scope: ApiScope) -> Callable[..., Awaitable[ApiKeyIdentity]]:
    """A FastAPI dependency: :func:`authenticate` the caller and demand ``scope``."""
    if scope not in API_SCOPES:
        raise UnknownScopeError(scope)

    async def authenticated_caller(
        request: Request, bearer: BearerCredentials, header: HeaderKey
    ) -> ApiKeyIdentity:
        return await authenticate(request, bearer, header, scope)

    authenticated_caller.__name__ = f"require_{scope}_scope"
    return authenticated_caller
