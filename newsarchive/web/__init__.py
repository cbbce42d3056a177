"""The web side: wayback-style replay of the archive and the search UI (a plain WSGI app).

Built on the archive library (:mod:`newsarchive.archive`); nothing in the archive imports this package.
"""
