"""Staff: the /v1/admin routes, their guard and the audit trail of admin actions."""
