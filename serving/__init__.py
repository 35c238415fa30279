"""FastAPI service and batch rescoring. Imports ``features`` and ``models``, never ``training``."""
