"""The ``newsarchive`` command line: one module per command group, each command a thin wrapper."""
