"""Long-running services around crawls: the crawl runner, the APScheduler service and distributed workers.

``crawl`` runs one crawl (Scrapy's CrawlerProcess) or several local worker processes; ``scheduler`` runs
crawls on each site's schedule; ``workers`` joins crawls shared through Redis.
"""
