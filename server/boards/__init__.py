"""Event boards: posts by an event's host, collaborators and confirmed attendees."""
