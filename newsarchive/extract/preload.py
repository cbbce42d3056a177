"""Imported by the extraction pool's forkserver, before it forks any worker (multiprocessing's forkserver
preload, set by :func:`newsarchive.extract.pool.make_executor`): prepares the process the workers are forked
from. Importing this module does that work; nothing else imports it."""

from newsarchive.extract.pool import prepare_worker_process

prepare_worker_process()
