"""The gateway's limits, with defaults; operators change them through Settings.

`RealtimeConfig.from_settings` reads each limit from the Settings field named
in `SETTING_FIELDS` (the environment variable is the upper-cased name).
"""

from __future__ import annotations

import msgspec

from server.settings import Settings

# Fixed by the contract (docs/API.md "WebSocket").
MAX_FRAME_BYTES = 64 * 1024
AUTH_TIMEOUT_SECONDS = 5.0


class RealtimeConfig(msgspec.Struct, frozen=True, kw_only=True):
    # Channels one connection may hold at once (beyond: error `too_many_channels`).
    max_channels: int = 50
    # A `subscribe` with `since` further back than this many items gets
    # `recovered: false` and no replay (the app reloads over REST).
    replay_limit: int = 500
    # Frames waiting to be written to one connection; when full, typing/read
    # events are dropped first, then the connection is closed with 4008.
    send_queue_size: int = 256
    # Every this many seconds: presence is refreshed, a connection that sent
    # nothing for a whole interval gets a `ping` frame, and one silent for
    # three intervals is closed.
    heartbeat_seconds: float = 25.0
    # Client frames per connection per 10 s, and per user (all connections,
    # every process) per minute; past either the connection is closed with 4029.
    frames_per_connection_per_10s: int = 100
    frames_per_user_per_minute: int = 600
    # How long a live item may wait for an earlier `seq` still in flight
    # before the missing ones are read from the database instead.
    gap_wait_seconds: float = 0.5

    @property
    def presence_ttl_seconds(self) -> float:
        # Refreshed every heartbeat; survives two missed refreshes, no more.
        return self.heartbeat_seconds * 3

    @classmethod
    def from_settings(cls, settings: Settings) -> RealtimeConfig:
        return cls(**{field: getattr(settings, name) for field, name in SETTING_FIELDS.items()})


# RealtimeConfig field -> Settings field (env var: the upper-cased Settings name).
SETTING_FIELDS: dict[str, str] = {
    "max_channels": "ws_max_channels",
    "replay_limit": "ws_replay_limit",
    "send_queue_size": "ws_send_queue_size",
    "heartbeat_seconds": "ws_heartbeat_seconds",
    "frames_per_connection_per_10s": "ws_frames_per_connection_per_10s",
    "frames_per_user_per_minute": "ws_frames_per_user_per_minute",
}
