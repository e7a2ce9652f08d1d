"""Direct conversations between two people who attended an event together."""
