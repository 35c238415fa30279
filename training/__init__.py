"""Labels, snapshots, out-of-time split, fitting, evaluation, MLflow tracking and promotion.

Imports from ``features`` and ``models``; never imported by ``serving``.
"""
