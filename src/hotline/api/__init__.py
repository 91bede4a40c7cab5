"""The operator REST API under ``/api/v1``, and its authentication."""
