"""The gateway's limits, read from Settings (server/settings.py holds their defaults;
the environment variable is the upper-cased Settings name)."""

from __future__ import annotations

import msgspec

from server.settings import Settings

# Fixed by the contract (docs/API.md "WebSocket").
MAX_FRAME_BYTES = 64 * 1024
AUTH_TIMEOUT_SECONDS = 5.0


class RealtimeConfig(msgspec.Struct, frozen=True, kw_only=True):
    # Channels one connection may hold at once (beyond: error `too_many_channels`).
    max_channels: int
    # A `subscribe` with `since` further back than this many items gets
    # `recovered: false` and no replay (the app reloads over REST).
    replay_limit: int
    # Frames waiting to be written to one connection; when full, typing/read
    # events are dropped first, then the connection is closed with 4008.
    send_queue_size: int
    # Every this many seconds: presence is refreshed, a connection that sent
    # nothing for a whole interval gets a `ping` frame, and one silent for
    # three intervals is closed.
    heartbeat_seconds: float
    # Client frames per connection per 10 s, and per user (all connections,
    # every process) per minute; past either the connection is closed with 4029.
    frames_per_connection_per_10s: int
    frames_per_user_per_minute: int
    # How long a live item may wait for an earlier `seq` still in flight
    # before the missing ones are read from the database instead.
    gap_wait_seconds: float

    @property
    def presence_ttl_seconds(self) -> float:
        # Refreshed every heartbeat; survives two missed refreshes, no more.
        return self.heartbeat_seconds * 3

    @classmethod
    def from_settings(cls, settings: Settings) -> RealtimeConfig:
        return cls(
            max_channels=settings.ws_max_channels,
            replay_limit=settings.ws_replay_limit,
            send_queue_size=settings.ws_send_queue_size,
            heartbeat_seconds=settings.ws_heartbeat_seconds,
            frames_per_connection_per_10s=settings.ws_frames_per_connection_per_10s,
            frames_per_user_per_minute=settings.ws_frames_per_user_per_minute,
            gap_wait_seconds=settings.ws_gap_wait_seconds,
        )
