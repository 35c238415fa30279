"""The OpenAPI document tells the truth and the docs pages need no CDN.

Guarded: both API-key schemes are declared and every ``/v1`` operation requires one of them;
every ``/v1`` operation documents the error statuses the service answers with the one error
body schema (not FastAPI's ``HTTPValidationError``, which the service never sends); ``/docs``
and ``/redoc`` reference only the service's own assets, which it serves. That real answers
match the document is the schemathesis test's job (tests/serving/test_schemathesis.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from creditrisk.serving.api.app import create_app
from creditrisk.serving.api.docs import ASSETS_URL, DOCS_URL, REDOC_URL
from creditrisk.serving.api.error_responses import ROUTE_ERRORS, ErrorOut, error_responses
from creditrisk.serving.settings import Settings

ERROR_REF = "#/components/schemas/ErrorOut"


@pytest.fixture(scope="module")
def client() -> TestClient:
    # no lifespan: the document and the docs pages need neither database nor model
    return TestClient(create_app(Settings(database_url="sqlite://")))


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    result: dict[str, Any] = answer.json()
    return result


def v1_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in operations.items()
    ]


def test_both_key_schemes_are_declared_and_required_on_every_v1_route(
    document: dict[str, Any],
) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": schemes["ApiKeyHeader"]["description"],
    }
    assert schemes["BearerKey"]["scheme"] == "bearer"
    operations = v1_operations(document)
    assert len(operations) >= 9
    for method, path, operation in operations:
        assert operation.get("security") == [{"BearerKey": []}, {"ApiKeyHeader": []}], (
            method, path)


def test_every_v1_route_documents_its_errors_with_the_error_body(
    document: dict[str, Any],
) -> None:
    for method, path, operation in v1_operations(document):
        responses = operation["responses"]
        for status in ROUTE_ERRORS:
            assert str(status) in responses, (method, path, status)
        has_parameters = bool(operation.get("parameters")) or "requestBody" in operation
        assert ("422" in responses) == has_parameters, (method, path)
        assert ("413" in responses) == ("requestBody" in operation), (method, path)
        assert ("400" in responses) == ("requestBody" in operation), (method, path)
        assert ("404" in responses) == ("{" in path), (method, path)
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
        assert "Retry-After" in responses["503"]["headers"]
        assert "WWW-Authenticate" in responses["401"]["headers"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_error_body_schema_matches_what_the_error_handlers_send(client: TestClient) -> None:
    """A real 401 (the auth dependency) and 413 (the body-limit middleware) parse as ErrorOut."""
    unauthenticated = client.get("/v1/model")
    assert unauthenticated.status_code == 401
    assert ErrorOut.model_validate(unauthenticated.json()).error == "unauthenticated"
    too_large = client.post("/v1/applications", content=b"x" * (1 << 20))
    assert too_large.status_code == 413
    assert ErrorOut.model_validate(too_large.json()).error == "payload_too_large"


def test_error_responses_refuses_a_status_it_cannot_describe() -> None:
    with pytest.raises(KeyError, match="418"):
        error_responses(401, 418)


@pytest.mark.parametrize("page", [DOCS_URL, REDOC_URL])
def test_docs_pages_load_only_the_services_own_assets(client: TestClient, page: str) -> None:
    html = client.get(page).text
    references = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    assert references, html
    for reference in references:
        assert reference.startswith(f"{ASSETS_URL}/"), reference
        assert client.get(reference).status_code == 200, reference
    assert "fonts.googleapis" not in html
    assert "cdn.jsdelivr" not in html
