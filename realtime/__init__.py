"""Realtime: the WebSocket gateway and Redis fan-out (built in the realtime issue)."""
