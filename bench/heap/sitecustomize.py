"""Heap snapshots of a benchmarked server process (`bench/fanout.py --heap`).

On the PYTHONPATH of the server processes only when the bench runs with
`--heap`. The first SIGUSR1 starts tracemalloc (tracing from start-up makes
it too slow to start); it and every later one write a snapshot to
`$MOMENTO_BENCH_HEAP_DIR/<pid>-<n>.snapshot`. The bench sends the first just
before opening the idle connections and the second once they are open, so the
second holds what they allocated.
"""

from __future__ import annotations

import itertools
import os
import signal
import tracemalloc
from pathlib import Path
from types import FrameType

_DIR = os.environ.get("MOMENTO_BENCH_HEAP_DIR")

if _DIR:
    _taken = itertools.count()

    def _dump(signum: int, frame: FrameType | None) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(int(os.environ.get("MOMENTO_BENCH_HEAP_FRAMES", "8")))
        path = Path(_DIR, f"{os.getpid()}-{next(_taken)}.snapshot")
        partial = path.with_suffix(".partial")
        tracemalloc.take_snapshot().dump(str(partial))
        partial.rename(path)  # whole files only, for the bench that waits on them

    signal.signal(signal.SIGUSR1, _dump)
