"""The archive library: WARC files, the relational index, replay and export.

Nothing here imports Scrapy: replay, export and reindex run without a crawl.
"""
