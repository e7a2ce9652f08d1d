"""Matching rules (wave sizing, time slots, ranking weights, match reasons): plain
functions the matching worker uses; the SQL is in db/queries/matching.py."""
