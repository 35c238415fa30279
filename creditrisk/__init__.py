"""``creditrisk``: the one import namespace of the distribution.

The layers live in the repository's top-level folders and are linked here, so installed they
are ``creditrisk.ledger``, ``creditrisk.features``, ``creditrisk.models``,
``creditrisk.training``, ``creditrisk.serving`` (plus ``creditrisk.synthetic`` and
``creditrisk.migrations``); ``creditrisk.cli`` is the command line, the composition root that
nothing imports.
"""
