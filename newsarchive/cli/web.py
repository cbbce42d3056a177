"""``replay``: the wayback-style replay server with the search UI."""

from __future__ import annotations

import click

from newsarchive.cli.common import archive_options, existing_home, friendly_errors, open_index


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it loopback).")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8080, show_default=True,
              help="Port (0: any free port).")
@archive_options
@friendly_errors
def replay(host: str, port: int, home: str | None, index_url: str | None) -> None:
    """Serve the archive over HTTP: wayback-style replay (/web/TIMESTAMP/URL) and article search.

    Archived pages come back with their original status, headers and bytes, links rewritten into the
    archive and sandboxed by CSP, HTML pages under a banner (capture time, earlier and later captures);
    /web/*/URL is the timeline of a URL's captures; / searches the articles (facets by site, language and
    month, sort by relevance or date, JSONL/CSV download); /article/ID shows one with its story and
    versions; /stories lists stories that ran at several outlets.

    \b
    Example:
      newsarchive replay --home ./newsarchive-data --port 8080
    """
    from newsarchive.web.replay import ReplayOptions, ReplayServer

    archive = existing_home(home, index_url, warcs=True)
    server = ReplayServer(open_index(archive), archive.warc_dir, ReplayOptions(host=host, port=port))
    click.echo(f"replaying {archive.root} on {server.url}/ (search) and {server.url}/web/URL; Ctrl-C stops",
               err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
