"""The CLI's error contract: one clear line on stderr, a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, home: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsarchive", *args, "--home", str(home)] if args[0] in
                          ("crawl", "show", "stats") else [sys.executable, "-m", "newsarchive", *args],
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, pattern: str) -> None:
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and pattern in errors[0], proc.stderr


def test_bad_sites_toml_names_file_and_key(tmp_path: Path) -> None:
    sites = tmp_path / "sites.toml"
    sites.write_text("[sites.a]\nstart_urls = 'http://127.0.0.1/'\n")
    proc = run("crawl", "--sites", str(sites), home=tmp_path)
    assert_one_line_error(proc, 2, f"{sites}: [sites.a] start_urls: must be a list")


def test_unknown_site_and_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(run("crawl", "--sites", str(tmp_path / "none.toml"), home=tmp_path), 2, "no such file")
    sites = tmp_path / "sites.toml"
    sites.write_text("[sites.a]\nstart_urls = ['http://127.0.0.1/']\n")
    assert_one_line_error(run("crawl", "--sites", str(sites), "b", home=tmp_path), 2, "unknown site(s) b")


def test_database_that_does_not_connect(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "newsarchive", "stats", "--index-url",
                           "postgresql://nobody@127.0.0.1:1/none"], capture_output=True, text=True, timeout=60)
    assert_one_line_error(proc, 2, "cannot connect to index postgresql")


def test_bad_arguments(tmp_path: Path) -> None:
    assert_one_line_error(run("crawl", home=tmp_path), 2, "give one or more URLs")
    assert_one_line_error(run("crawl", "not-a-url", home=tmp_path), 2, "'not-a-url' is not an http(s) URL")
    proc = run("crawl", "http://127.0.0.1/", "--max-pages", "-1", home=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "-1" in proc.stderr
    assert_one_line_error(run("crawl", "http://127.0.0.1/", "-s", "NOEQUALS", home=tmp_path), 2, "NAME=VALUE")


def test_show_unknown_url(tmp_path: Path) -> None:
    from newsarchive.archive.index import ArchiveIndex

    ArchiveIndex(f"sqlite:///{tmp_path / 'index.sqlite'}")  # an empty archive (a missing one is refused)
    assert_one_line_error(run("show", "http://127.0.0.1/none", home=tmp_path), 1, "no archived article")


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_unreachable_url_fails_with_reason(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = run("crawl", f"http://127.0.0.1:{port}/", "-s", "RETRY_TIMES=0", home=tmp_path)
    assert_one_line_error(proc, 1, "nothing could be fetched")
    assert "Connection" in proc.stderr or "refused" in proc.stderr
