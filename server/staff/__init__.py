"""The staff console: server-rendered pages at /staff for the Momento team."""
