"""The web API: app factory, settings, auth, errors, and one folder per domain."""
