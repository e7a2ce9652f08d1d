"""Host profiles and the public host page."""
