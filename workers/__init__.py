"""Background jobs on the PostgreSQL job queue (pgqueuer)."""
