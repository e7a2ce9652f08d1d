"""Social and host profiles."""
