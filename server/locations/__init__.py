"""Places with checked coordinates, shared by hosts and event stops."""
