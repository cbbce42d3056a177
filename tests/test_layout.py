"""The package layout is the architecture: which room may import which, and no circles inside a room.

Imports point down: cli -> web/service -> spiders -> crawler -> extract -> archive. ``extract`` and
``archive`` never import Scrapy; ``archive`` imports nothing of ours but itself. Function-local imports
count as much as module-level ones (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import newsarchive

ROOT = Path(newsarchive.__file__).parent
SCRAPY = ("scrapy", "scrapy_redis", "scrapy_playwright", "twisted")
# room -> rooms of ours it may import (besides itself and the top-level newsarchive/__init__)
ALLOWED = {
    "archive": set(),
    "extract": {"archive"},
    "crawler": {"archive", "extract"},
    "spiders": {"archive", "extract", "crawler"},
    "service": {"archive", "extract", "crawler", "spiders"},
    "web": {"archive", "extract"},
    "demo": set(),
    "cli": {"archive", "extract", "crawler", "spiders", "service", "web", "demo"},
}
NO_SCRAPY = ("archive", "extract", "web", "cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:  # Alembic scripts, loaded by Alembic only
            continue
        yield module_name(path), path


def imports_of(path: Path, package: str | None = None) -> set[str]:
    """Every module ``path`` (of ``package``) imports, at any depth of the file (absolute names)."""
    found: set[str] = set()
    if package is None:
        package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "newsarchive" else None


def test_rooms_import_only_downwards() -> None:
    wrong = []
    for name, path in modules():
        own = room(name)
        if own is None:
            continue
        for target in imports_of(path):
            other = room(target)
            if other and other != own and other in ALLOWED and other not in ALLOWED[own]:
                wrong.append(f"{name} imports {target}")
    assert not wrong, "\n".join(sorted(set(wrong)))


@pytest.mark.parametrize("package", NO_SCRAPY)
def test_no_scrapy_outside_the_crawler(package: str) -> None:
    wrong = [f"{name} imports {target}" for name, path in modules() if room(name) == package
             for target in imports_of(path) if target.split(".")[0] in SCRAPY]
    assert not wrong, "\n".join(sorted(set(wrong)))


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_inside_a_package() -> None:
    names = {name for name, _ in modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        graph[name] = {t for t in imports_of(path) if t in names and t != name
                       and t.rsplit(".", 1)[0] == package and not t.endswith("__init__")}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_layering_test_sees_a_violation(tmp_path: Path) -> None:
    """The checks above are not vacuous: a Scrapy import in the archive would be caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from scrapy import Request\n    from ..web import replay\n")
    assert {"scrapy", "scrapy.Request", "newsarchive.web", "newsarchive.web.replay"} <= imports_of(
        bad, "newsarchive.archive")
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return {line.split(".")[0] for line in out.split()}


def test_archive_library_loads_no_heavy_optional_libraries() -> None:
    loaded = _loaded_after("import newsarchive.archive, newsarchive.archive.index, newsarchive.archive.search, "
                           "newsarchive.archive.runs, newsarchive.archive.warc, newsarchive.archive.dedup")
    assert not loaded & {"numpy", "scipy", "datasketch", "pyarrow", "redis", "scrapy", "trafilatura"}


def test_the_command_line_starts_without_scrapy_or_the_extractor() -> None:
    loaded = _loaded_after("import newsarchive.cli.main")
    assert not loaded & {"numpy", "scipy", "datasketch", "pyarrow", "scrapy", "twisted", "trafilatura", "alembic"}


def test_the_crawl_process_leaves_the_extraction_stack_to_the_pool() -> None:
    """The crawl's main process ships pages to the extraction pool; trafilatura loads in the workers only."""
    loaded = _loaded_after("import newsarchive.crawler.pipelines, newsarchive.crawler.middlewares, "
                           "newsarchive.crawler.recovery, newsarchive.crawler.requisites, newsarchive.crawler.browser, "
                           "newsarchive.crawler.addon, newsarchive.spiders.news, newsarchive.service.crawl")
    assert not loaded & {"trafilatura", "htmldate", "justext", "py3langid", "readability", "numpy",
                         "scrapy_playwright", "playwright", "datasketch"}
