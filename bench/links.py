"""What a page with 100,000 links costs a crawl: the same small site crawled with and without such a page.

A local site of --articles article pages linked from a home page is crawled twice by ``newsarchive crawl``,
once as it is and once with --links extra article links on the home page (each a distinct URL, served as a
404 so that only the link handling differs; the page budget allows them all, so they are all requested
unless --budget is given). Printed: wall seconds and CPU seconds of the whole crawl (process tree) for both,
and what the huge page added.

    python bench/links.py --links 100000
"""

from __future__ import annotations

import argparse
import sys
import tempfile

from crawl import measure
from localsite import serve


def make_site(articles: int, links: int) -> dict[str, bytes]:
    paths = [f"/politik/meldung-{i:06d}-aus-der-stadt.html" for i in range(articles)]
    site = {p: (f"<html lang=de><body><article><h1>Meldung {i}</h1>" + "<p>Die Stadt meldet etwas Neues, "
                "und der Rat berät am Abend darüber, was nun zu tun ist.</p>" * 6 + "</article></body></html>").encode()
            for i, p in enumerate(paths)}
    extra = "".join(f'<li><a href="/welt/bericht-{i:06d}-aus-aller-welt.html">Bericht {i}</a></li>'
                    for i in range(links))
    nav = "".join(f'<li><a href="{p}">{p}</a></li>' for p in paths)
    site["/"] = f"<html><body><ul>{nav}</ul><ul>{extra}</ul></body></html>".encode()
    site["/robots.txt"] = b"User-agent: *\nAllow: /\n"
    return site


def run(articles: int, links: int, budget: int | None, workers: int) -> tuple[float, float]:
    server = serve(make_site(articles, links))
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    with tempfile.TemporaryDirectory(prefix="bench-links-") as home:
        cmd = [sys.executable, "-m", "newsarchive", "crawl", url, "--home", home, "--depth", "1",
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
               "-s", "CONCURRENT_REQUESTS=16", "-s", f"NEWSARCHIVE_EXTRACTION_WORKERS={workers}",
               "-s", "NEWSARCHIVE_PROGRESS_ENABLED=False", "-s", "NEWSARCHIVE_REQUISITES_ENABLED=False",
               "-s", "RETRY_ENABLED=False"]
        if budget is not None:
            cmd += ["--max-pages", str(budget)]
        usage = measure(cmd)
    server.shutdown()
    return usage.seconds, usage.cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=100_000)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--budget", type=int, default=None, help="--max-pages of both crawls (default: none)")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    plain = run(args.articles, 0, args.budget, args.workers)
    huge = run(args.articles, args.links, args.budget, args.workers)
    print(f"{args.articles} articles, home page with {args.links:,} extra links, budget {args.budget or 'none'}")
    print(f"{'crawl':<28}{'seconds':>9}{'CPU s':>8}")
    print(f"{'without the huge page':<28}{plain[0]:>9.1f}{plain[1]:>8.1f}")
    print(f"{'with it':<28}{huge[0]:>9.1f}{huge[1]:>8.1f}")
    print(f"{'added by the huge page':<28}{huge[0] - plain[0]:>9.1f}{huge[1] - plain[1]:>8.1f}")


if __name__ == "__main__":
    main()
