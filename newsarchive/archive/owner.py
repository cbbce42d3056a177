"""Which process owns a running crawl run, and whether that process is still alive.

A crawl run is ``running`` from the moment its row is written until the crawl finishes it; a crawl killed
with SIGKILL (or a power loss) never finishes it. Each run therefore records its owner when it starts
(host name, boot id, PID namespace, PID and the process start time): the next crawl or scheduler on the
same host can tell that the owner is gone, even when the PID has been reused since, and mark the run
interrupted (:func:`newsarchive.archive.runs.mark_interrupted`). A run owned by another host is left
alone: only a crawl or scheduler there can tell.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

OWNER_KEY = "newsarchive/owner"  # in CrawlRun.stats while the run is running (finish_run replaces stats)


def process_owner(pid: int | None = None) -> dict[str, Any]:
    """The owner record of ``pid`` (default: this process)."""
    pid = pid or os.getpid()
    return {"host": socket.gethostname(), "boot": _boot_id(), "pidns": _pid_namespace(), "pid": pid,
            "start": _start_ticks(pid)}


def owner_alive(owner: Any) -> bool | None:
    """True: the owner still runs; False: it is gone (or the run has no valid owner record); None: the
    owner is on another host (or in another PID namespace), so this process cannot tell."""
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return False
    here = process_owner()
    if owner.get("host") != here["host"] or owner.get("pidns") != here["pidns"]:
        return None
    if owner.get("boot") and here["boot"] and owner["boot"] != here["boot"]:
        return False  # the machine was restarted since
    pid = int(owner["pid"])
    if not pid_alive(pid):
        return False
    start = _start_ticks(pid)
    return not (owner.get("start") and start and start != owner["start"])  # a reused PID is another process


def pid_alive(pid: int | None) -> bool:
    """Whether process ``pid`` of this machine still runs (a zombie has ended)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in ("Z", "X")  # a zombie has ended; only its exit status is left


def _stat_fields(pid: int) -> list[str]:
    """Fields of /proc/<pid>/stat after the command name (empty where there is no /proc)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    return text.rpartition(")")[2].split()


def _state(pid: int) -> str:
    fields = _stat_fields(pid)
    return fields[0] if fields else ""


def _start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if len(fields) > 19 and fields[19].isdigit() else None  # field 22: starttime


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _pid_namespace() -> int:
    try:
        return os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return 0
