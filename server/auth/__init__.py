"""Phone sign-in with one-time codes, JWT access tokens and rotating refresh tokens."""
