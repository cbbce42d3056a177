"""``newsarchive demo`` end to end: progress lines count articles as they are indexed, and the follow-up
commands it prints work on the archive after the demo's sites (and their ports) are gone."""

from __future__ import annotations

import http.client
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from newsarchive.archive.index import ArchiveIndex
from newsarchive.web.replay import ReplayOptions, ReplayServer

pytestmark = pytest.mark.slow


def newsarchive(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsarchive", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("demo")
    proc = newsarchive("demo", "--home", str(root / "demo home"), cwd=root)  # a space: the commands quote it
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, proc


def test_progress_lines_count_articles_as_indexed(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, proc = demo
    summary = re.search(r"(\d+) pages archived, (\d+) articles indexed", proc.stdout)
    assert summary, proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.startswith("progress: ")]
    assert lines, proc.stderr
    counts = [tuple(int(n) for n in re.findall(r"(\d+) (?:pages archived|article pages fetched|articles indexed)",
                                                line)) for line in lines]
    assert all(len(c) == 3 for c in counts), lines
    assert [c[2] for c in counts] == sorted(c[2] for c in counts)  # articles only ever go up
    assert "crawl finished after" in lines[-1]
    assert counts[-1][0] == int(summary.group(1)) and counts[-1][2] == int(summary.group(2)) > 0, (lines, summary)


def test_printed_follow_up_commands_work(demo: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, proc = demo
    commands = [shlex.split(line.split("#")[0]) for line in proc.stdout.splitlines()
                if line.startswith("  newsarchive ")]
    by_name = {c[1]: c for c in commands}
    assert set(by_name) == {"show", "search", "replay"}, proc.stdout
    assert by_name["show"][2:4] == ["--home", str(root / "demo home")]

    shown = newsarchive(*by_name["show"][1:], cwd=root)
    assert shown.returncode == 0, shown.stderr
    title = re.search(r"^title:\s+(.+)$", shown.stdout, re.M)
    assert title, shown.stdout

    claimed = re.search(r"  newsarchive search .*# (\d+) articles?$", proc.stdout, re.M)
    found = newsarchive(*by_name["search"][1:], cwd=root)
    assert found.returncode == 0 and claimed, found.stderr
    assert f"{claimed.group(1)} article(s)" in found.stdout + found.stderr  # the count goes to stderr

    # the replay URL: the path of the printed http://127.0.0.1:8080/web/TS/URL, served from the demo archive
    opened = re.search(r"then open http://127\.0\.0\.1:8080(/web/\d{14}/\S+)$", proc.stdout, re.M)
    assert opened, proc.stdout
    home = root / "demo home"
    with ReplayServer(ArchiveIndex(f"sqlite:///{home / 'index.sqlite'}"), home / "warcs",
                      ReplayOptions(port=0)) as server:
        host, port = server.httpd.server_address[:2]
        conn = http.client.HTTPConnection(str(host), int(port), timeout=30)
        conn.request("GET", opened.group(1))
        frame = conn.getresponse().read().decode()
        content = re.search(r"<iframe id=replay title='archived page' src='([^']+)'", frame)
        assert content, frame
        conn.request("GET", content.group(1))
        response = conn.getresponse()
        page = response.read().decode()
        conn.close()
    assert response.status == 200 and title.group(1).strip() in page
