"""Every SQL statement of the project, one module per domain.

Functions take an asyncpg connection (the caller owns the transaction) and
return records or plain values.
"""
