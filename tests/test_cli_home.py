"""A mistyped --home on a read command is refused (one line, exit 2) and never creates an empty archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsarchive.cli.main import cli
from tests.archive_builder import build_archive

READ_COMMANDS = [
    ["show", "https://news.example/politik/story-1.html"],
    ["diff", "https://news.example/politik/story-1.html"],
    ["stats"],
    ["search", "bridge"],
    ["runs"],
    ["stories"],
    ["templates"],
    ["cdxj"],
    ["verify"],
    ["reextract"],
    ["reindex", "--index-url", "sqlite:///{tmp}/rebuilt.sqlite"],
    ["export", "{tmp}/out"],
    ["wacz", "{tmp}/out.wacz"],
    ["replay", "--port", "0"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: a[0])
def test_read_command_refuses_a_home_without_an_archive(args: list[str], tmp_path: Path) -> None:
    typo = tmp_path / "newsarchve-data"
    argv = [a.format(tmp=tmp_path) for a in args] + ["--home", str(typo)]
    result = CliRunner().invoke(cli, argv, env={"NEWSARCHIVE_HOME": None, "NEWSARCHIVE_INDEX_URL": None})
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: no archive at {typo}") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert not typo.exists() and not (tmp_path / "rebuilt.sqlite").exists()
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.wacz").exists()


def test_read_commands_still_work_on_an_archive(tmp_path: Path) -> None:
    archive = build_archive(tmp_path / "home")
    env = {"NEWSARCHIVE_HOME": None, "NEWSARCHIVE_INDEX_URL": None}
    stats = CliRunner().invoke(cli, ["stats", "--home", str(archive.root)], env=env)
    assert stats.exit_code == 0, stats.output
    verify = CliRunner().invoke(cli, ["verify", "--home", str(archive.root)], env=env)
    assert verify.exit_code == 0, verify.output
