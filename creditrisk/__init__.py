"""The ``creditrisk`` command: the composition root. Nothing imports this package."""
