"""Model specs, risk grades, credit-limit policy, reason codes and the shared MLflow bundle.

Imports from ``features`` only.
"""
