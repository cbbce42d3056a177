"""Article text and metadata from HTML: chrome filters, trafilatura, site templates. No Scrapy import.

:func:`newsarchive.extract.article.extract` is a plain function of picklable arguments, run in a process
pool by the crawl's extraction pipeline and called by re-extraction and archive import alike. Modules:
``article`` (extraction and metadata), ``chrome`` (generic page-furniture filters), ``templates`` (a site's
learned template as applied to a page), ``learning`` (learning and storing templates from the index),
``records`` (the index row of one extraction), ``reextract`` (extract again from archived responses).
"""
