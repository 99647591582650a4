"""How fast this machine's CPU is right now, so that runs on a shared host can be compared.

The same virtual machine ran the same code up to 40 % slower at times (a neighbour on the host,
not the load average). Each benchmark prints this figure before and after it runs.
"""

from __future__ import annotations

import time


def python_loop_seconds(n: int = 5_000_000) -> float:
    """CPU seconds for a plain Python loop of n additions (about 0.2 s on a quiet host)."""
    t = time.process_time()
    s = 0
    for i in range(n):
        s += i
    return time.process_time() - t
