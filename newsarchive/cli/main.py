"""The ``newsarchive`` command: one group, each subcommand a thin wrapper over one library call.

The commands live in one module per group (:mod:`~newsarchive.cli.crawl`, :mod:`~newsarchive.cli.read`,
:mod:`~newsarchive.cli.maintenance`, :mod:`~newsarchive.cli.web`, :mod:`~newsarchive.cli.demo`); each
imports the library it wraps inside the command, so ``newsarchive --help`` and the read commands start
without loading Scrapy, the extractor or the optional heavy libraries.

Errors are one clear line on stderr and a non-zero exit, never a traceback (``--debug`` shows it).
Progress goes to stderr, data to stdout.
"""

from __future__ import annotations

import logging
import sys

import click

from newsarchive import __version__
from newsarchive.cli import crawl, demo, ingest, maintenance, read, web


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="newsarchive")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(verbose: int, debug: bool) -> None:
    """Crawl news sites politely, archive every fetch to WARC, extract and index the articles.

    \b
    Example:
      newsarchive demo
    """
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


for command in (crawl.crawl, read.show, read.diff, read.stats, crawl.schedule, read.runs_command, read.templates,
                demo.demo, crawl.worker, maintenance.db, web.replay, read.search, maintenance.cdxj,
                maintenance.reindex, maintenance.reextract, maintenance.verify, maintenance.export, read.stories,
                ingest.import_command, ingest.wacz):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="newsarchive")
