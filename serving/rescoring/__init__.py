"""Batch rescoring: every customer of the book re-rated as of a date (``creditrisk rescore``).

Plain modules (no FastAPI): :mod:`.columns` (the ``scores`` table's one column list),
:mod:`.partitions` (customer buckets), :mod:`.scoring` (one chunk of customers rated with the
service's own rating code), :mod:`.store` (the ``scores`` and ``score_runs`` tables and the
run's life cycle), :mod:`.runner` (chunked, resumable runs), :mod:`.changes` (what moved
against a previous run), :mod:`.monitoring` (PSI and outcomes backtest) and :mod:`.report`
(exports and the HTML page). Spark calls :func:`.scoring.score_customers` per bucket.
"""
