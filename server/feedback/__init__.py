"""After the event: ratings of the event and its host, and kudos between attendees."""
