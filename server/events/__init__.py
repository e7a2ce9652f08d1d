"""Events, host side."""
