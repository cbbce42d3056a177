"""pywb for interoperability tests: found through NEWSARCHIVE_PYWB_BIN (a bin directory, as .ci/run sets up;
default /tmp/newsarchive-pywb-venv/bin)
or PATH; tests skip with the reason where it is absent."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEFAULT_PYWB_BIN = "/tmp/newsarchive-pywb-venv/bin"  # python3 -m venv ... && .../bin/pip install pywb


def pywb_bin(name: str) -> str | None:
    directory = os.environ.get("NEWSARCHIVE_PYWB_BIN", DEFAULT_PYWB_BIN)
    if directory and (Path(directory) / name).exists():
        return str(Path(directory) / name)
    return shutil.which(name)


def require_pywb() -> tuple[str, str]:
    """(wb-manager, wayback), or skip the test."""
    manager, server = pywb_bin("wb-manager"), pywb_bin("wayback")
    if not manager or not server:
        pytest.skip("pywb is not installed (set NEWSARCHIVE_PYWB_BIN to its bin directory or put it on PATH)")
    return manager, server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_wayback(server: str, root: Path, collection: str) -> Iterator[str]:
    """`wayback` on 127.0.0.1 serving the collections under ``root``; yields the collection's base URL."""
    port = free_port()
    proc = subprocess.Popen([server, "-b", "127.0.0.1", "-p", str(port)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(base + "/", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield f"{base}/{collection}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
