"""The application request schema speaks the one applicant field list
(``features.applicant.APPLICATION_FIELDS``): the schema adds HTTP validation per field, but
adding, dropping or renaming an applicant field anywhere else fails here."""

from __future__ import annotations

from creditrisk.features.applicant import APPLICATION_FIELDS
from creditrisk.models.bundle import APPLICATION_COLUMNS
from creditrisk.serving.api.schemas import ApplicationIn

REQUEST_ONLY = ("as_of", "external_reference")
"""Not applicant facts: the decision date and the caller's own reference (never scored)."""


def test_request_schema_fields_are_the_applicant_fields_plus_request_context() -> None:
    assert tuple(ApplicationIn.model_fields) == (*APPLICATION_FIELDS, *REQUEST_ONLY)


def test_pyfunc_input_columns_are_the_applicant_fields_plus_the_decision_date() -> None:
    assert tuple(c for c in APPLICATION_COLUMNS if c != "as_of") == APPLICATION_FIELDS
