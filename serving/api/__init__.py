"""The web layer: translates HTTP to the serving business modules and back (FastAPI)."""
