"""The pure core: models, policy, precedence, ledger and verification.

Nothing here does I/O, reads a clock or the environment: time and keys are parameters.
"""
