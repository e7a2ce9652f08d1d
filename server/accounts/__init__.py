"""The caller's own account: /v1/me, its changes, export and deletion."""
