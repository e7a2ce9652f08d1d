"""Payments: invitation fees through Stripe (`gateway` is the only module that talks to it)."""
