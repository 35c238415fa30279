"""Serving: rating customers, applicants, the book and the worklist from the served bundle
(plain modules, called by the HTTP routes, batch rescoring and Spark alike) and the FastAPI
web layer in :mod:`creditrisk.serving.api`. Imports ``features`` and ``models``, never
``training``."""
