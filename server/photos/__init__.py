"""Photo uploads: the camera roll of a social profile and a host page's photos."""
