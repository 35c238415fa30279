"""Point-in-time payment-history features from a receivables ledger.

Bottom layer of creditrisk: imports nothing from models, training, serving or the CLI.
"""
