"""newsarchive: crawl news sites politely, archive every fetch to WARC, extract and index the articles."""

__version__ = "0.1.0"
