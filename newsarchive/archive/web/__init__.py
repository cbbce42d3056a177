"""The replay server's own pages (search, article view, capture lists) and the rewriting of archived pages."""
