"""Support tickets from users to the Momento team."""
