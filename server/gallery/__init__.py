"""The event gallery: photos shared by the host and the people who came."""
