"""A route class whose well-formed requests skip FastAPI's per-request dependency solving.

FastAPI resolves a route's parameters anew on every request: it walks the dependency tree,
builds cache keys, reads each header and query parameter through its field machinery,
validates the body through a generic field and binds the results (``solve_dependencies``).
For ``POST /v1/applications`` that was about a fifth of the server's CPU per answer, more
than the scoring itself. :class:`PlainArgumentsRoute` is an :class:`fastapi.routing.APIRoute`
(same path, OpenAPI document, middleware, error handlers) whose handler first tries
``route.plain_arguments(request)``: a coroutine that returns the endpoint's keyword arguments
for a request it recognises as well-formed, or None. On None, or when the app has dependency
overrides, the request takes FastAPI's own handler unchanged, so every refusal (bad JSON,
wrong content type, a field out of range, a bad header) is FastAPI's answer, word for word.
The plain arguments must be exactly what FastAPI would have bound for that request
(``tests/serving/test_fast_route.py`` compares the two answers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

PlainArguments = Callable[[Request], Awaitable[dict[str, Any] | None]]
"""Request -> the endpoint's keyword arguments, or None: let FastAPI solve them."""


class PlainArgumentsRoute(APIRoute):
    """An ``APIRoute`` whose endpoint carries ``plain_arguments`` (see the module)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        solved = super().get_route_handler()
        endpoint = self.endpoint
        plain: PlainArguments | None = getattr(endpoint, "plain_arguments", None)
        if plain is None:
            return solved

        async def handler(request: Request) -> Response:
            if getattr(request.scope.get("app"), "dependency_overrides", None):
                return await solved(request)  # a test replaced a dependency: FastAPI's way
            arguments = await plain(request)
            if arguments is None:
                return await solved(request)
            response = await endpoint(**arguments)
            if not isinstance(response, Response):  # pragma: no cover - endpoints answer bytes
                raise TypeError("a plain-arguments endpoint must return a Response")
            return response

        return handler
