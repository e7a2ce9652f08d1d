"""Safety: blocks (a hard stop between two people) and reports to moderation."""
