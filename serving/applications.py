"""A new customer asks for credit: the applicant scored by the served bundle.

Scoring uses the bundle's dict fast path (:meth:`CreditRiskBundle.score_applicant`: no
DataFrame per request, about 0.6 ms of CPU against about 0.5 ms for building a one-row
DataFrame alone, see DESIGN "Measured on this kind of machine"). Nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from creditrisk.models.applicant_inputs import ApplicantInputOutOfRange
from creditrisk.models.bundle import APPLICATION_COLUMNS, ApplicantScore
from creditrisk.serving.errors import InvalidRequest
from creditrisk.serving.registry import ServedBundle

APPLICANT_FIELDS: tuple[str, ...] = tuple(c for c in APPLICATION_COLUMNS if c != "as_of")
"""What an applicant tells us about itself (the pyfunc's input without the decision date)."""


def score_applicant(
    served: ServedBundle, application: Mapping[str, Any], *, as_of: date
) -> ApplicantScore:
    """The bundle's answer for one applicant as of ``as_of`` (``application`` holds at least
    :data:`APPLICANT_FIELDS`; ``founded_on`` is a date).

    :class:`InvalidRequest` naming the field when ``founded_on`` is after ``as_of`` or an
    input the bundle refuses lies outside the range its model was trained on (never
    extrapolated silently)."""
    founded_on = application["founded_on"]
    if founded_on > as_of:
        raise InvalidRequest("founded_on", f"must not be after the decision date {as_of}")
    attributes = {name: application.get(name) for name in APPLICANT_FIELDS}
    try:
        return served.bundle.score_applicant(attributes, as_of=as_of)
    except ApplicantInputOutOfRange as exc:
        raise InvalidRequest(exc.field, str(exc)) from exc
