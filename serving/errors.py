"""What can go wrong in serving, as domain errors: no HTTP status codes here.

One base, :class:`ServingError`; the web layer (:mod:`creditrisk.serving.api.errors`, the one
place that knows HTTP) maps each class to a status and an error code. Hierarchy::

    ServingError
    ├── NotFound
    │   ├── CustomerNotFound        the customer id is not in the ledger
    │   └── DecisionNotFound        no decision with this id was ever logged
    ├── InvalidRequest              a field's value cannot be used (names the field)
    │   └── CustomerNotOnboarded    as_of lies before the customer's onboarding
    ├── ModelUnavailable
    │   ├── ModelNotReady           no bundle is loaded (yet)
    │   ├── ModelLoadError          a new bundle could not be loaded; the old one serves on
    │   ├── NoDefaultModel          a late-only bundle: no PD, grade or limit (invoices work)
    │   └── IncompatibleBundle      a bundle pickled before the ``creditrisk.`` namespace
    └── AccessDenied
        ├── AuthenticationError     no key, or an unknown, malformed or revoked one
        └── MissingScopeError       a valid key without the scope the operation needs
"""

from __future__ import annotations

from datetime import date
from typing import Final

RETRAIN_COMMAND: Final = "creditrisk train, then creditrisk promote"


class ServingError(Exception):
    """Base of every serving failure a caller can understand; ``message`` is for humans."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServingError):  # noqa: N818 (reads as the situation it is)
    """Something the request names does not exist."""


class CustomerNotFound(NotFound):
    """The customer id is not in the ledger."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"customer {customer_id!r} is not in the ledger")
        self.customer_id = customer_id


class DecisionNotFound(NotFound):
    """No decision with this id was ever logged."""

    def __init__(self, decision_id: str) -> None:
        super().__init__(f"decision {decision_id!r} is not in the decision log")
        self.decision_id = decision_id


class InvalidRequest(ServingError):  # noqa: N818 (reads as the situation it is)
    """The request is well-formed but a field's value cannot be used (business validation).

    ``location`` says where the field sits (``body`` or ``query``)."""

    def __init__(self, field: str, message: str, *, location: str = "body") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.field_message = message
        self.location = location


class CustomerNotOnboarded(InvalidRequest):
    """The customer exists but was onboarded after the requested as-of date."""

    def __init__(self, customer_id: str, onboarded_on: date | None, as_of: date) -> None:
        when = f"on {onboarded_on.isoformat()}" if onboarded_on else "later"
        super().__init__(
            "as_of",
            f"customer {customer_id!r} was onboarded {when}, after as_of {as_of.isoformat()}",
            location="query",
        )
        self.message = self.field_message
        self.as_of = as_of


class ModelUnavailable(ServingError):  # noqa: N818 (reads as the situation it is)
    """Scoring is impossible right now; retrying later may help."""


class ModelNotReady(ModelUnavailable):
    """No model bundle is loaded (yet)."""

    def __init__(self, reason: str = "no model is loaded yet; retry later") -> None:
        super().__init__(reason)


class ModelLoadError(ModelUnavailable):
    """A new bundle could not be loaded; the old one keeps serving."""

    def __init__(self, source: str, current_version: str | None) -> None:
        keeping = f"; still serving version {current_version}" if current_version else ""
        super().__init__(f"could not load the model from {source}{keeping}")
        self.source = source


class NoDefaultModel(ModelUnavailable):
    """The served bundle holds no default model (trained on a ledger that could not support
    one): PD, grade, limit and order answers are impossible until a bundle with one is
    promoted; invoice predictions are answered. Retrying does not help."""

    def __init__(self, reason: str | None = None) -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"no default model in this bundle{why}; invoice predictions are available, PD, "
            f"grade and limit answers need a bundle with a default model ({RETRAIN_COMMAND})"
        )
        self.reason = reason


class IncompatibleBundle(ModelUnavailable):
    """A bundle written before the layers moved under the ``creditrisk`` namespace: its pickle
    names modules such as ``models.pyfunc`` that no longer exist. It must be retrained."""

    def __init__(self, source: str, missing_module: str) -> None:
        super().__init__(
            f"the bundle at {source} was saved by an older creditrisk (it refers to the module "
            f"{missing_module!r}, now under 'creditrisk.'); it cannot be loaded: retrain and "
            f"promote a new one ({RETRAIN_COMMAND})"
        )
        self.source = source
        self.missing_module = missing_module


class AccessDenied(ServingError):  # noqa: N818 (reads as the situation it is)
    """The caller may not do this."""


class AuthenticationError(AccessDenied):
    """No API key, or one that is unknown, malformed or revoked."""

    def __init__(self, message: str, *, key_presented: bool) -> None:
        super().__init__(message)
        self.key_presented = key_presented


class MissingScopeError(AccessDenied):
    """The API key is valid but lacks the scope this operation needs."""

    def __init__(self, key_id: str, scope: str) -> None:
        super().__init__(f"API key {key_id} lacks the {scope!r} scope")
        self.key_id = key_id
        self.scope = scope
