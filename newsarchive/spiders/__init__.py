"""One spider class per crawl strategy; sites are data (sites.toml or spider arguments)."""
