"""The storage layer: connection pool, embedded PostgreSQL, migrations and every SQL query."""
