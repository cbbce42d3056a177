"""Scrapy components only: capture middleware, pipelines, extensions, the Redis frontier, settings glue.

Site configuration (``sites``) and recrawl policies (``recrawl``) live here because the spiders and the
components read them; running crawls is :mod:`newsarchive.service`, extraction :mod:`newsarchive.extract`.
"""
