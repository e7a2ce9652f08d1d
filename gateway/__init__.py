"""The WebSocket gateway (/v1/ws): a runner over the messaging services and realtime/."""
