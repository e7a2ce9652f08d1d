"""Notifications: push tokens, per-category push/SMS settings (sending comes later)."""
