"""The archive library: WARC files, the relational index, search, export, reindex and verify.

Nothing here imports Scrapy, the web server, the CLI or the services; heavier libraries (numpy,
pyarrow, redis) load where they are used, so ``import newsarchive.archive.index`` stays light. All ORM
models are in :mod:`newsarchive.archive.models`.
"""
