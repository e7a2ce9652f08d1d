"""Live delivery: fan-out through Redis, presence, frames and channel names (imports no
server/, workers/ or gateway/ code)."""
