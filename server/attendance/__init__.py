"""After the event begins: check-in, attendance reports, the close of attendance."""
