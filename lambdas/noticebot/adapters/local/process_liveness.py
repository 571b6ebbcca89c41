"""Whether a process recorded earlier (the holder of a local queue message) is still alive.

A process is recorded as host, pid and start time: a pid alone may be reused by an unrelated
process once the recorded one has died, and the start time (Linux: field 22 of
/proc/<pid>/stat, clock ticks since boot) tells the two apart. A zombie (killed, not yet
reaped by its parent) is dead. Where the start time cannot be read (no /proc), a live pid
counts as alive, and a process on another host always does: whoever relies on this keeps a
timeout behind it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessIdentity:
    host: str
    pid: int
    started: str = ""  # start time as /proc shows it; "" where it cannot be read


def current_process() -> ProcessIdentity:
    pid = os.getpid()
    state = _proc_stat(pid)
    return ProcessIdentity(host=socket.gethostname(), pid=pid, started=state[1] if state else "")


def is_alive(process: ProcessIdentity) -> bool:
    if process.host != socket.gethostname():
        return True
    try:
        os.kill(process.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    state = _proc_stat(process.pid)
    if state is None:
        # With /proc present a missing entry means it died since os.kill; without, trust kill.
        return not Path("/proc/self/stat").exists()
    status, started = state
    if status in ("Z", "X"):
        return False
    return not process.started or started == process.started


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time) from /proc/<pid>/stat, or None where there is no /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the
    # last ')'. What follows starts at field 3 (state); field 22 (starttime) is 19 further.
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], fields[19]
