"""The interest catalog, its search, and the caller's own interests."""
