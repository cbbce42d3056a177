"""Bundled demo news sites built from the five seed stories (see :mod:`newsarchive.demo.server`)."""
