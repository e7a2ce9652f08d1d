"""The waitlist for people outside the launch area."""
