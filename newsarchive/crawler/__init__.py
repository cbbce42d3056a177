"""Scrapy integration: capture middleware, pipelines, extensions, extraction and the CLI."""
