"""Running the ORM from the sockets without queueing every candidate behind one thread.

``channels.db.database_sync_to_async`` is thread-sensitive by default: every ORM call of a
process runs on one shared thread, one after the other. With a thousand candidates sending
heartbeats and signals, that thread, not the CPU or the database, is the bottleneck (the
alerts benchmark measured seconds of queueing). Signals and dashboard renders share no
thread-bound state, so they run on the event loop's executor threads.

Each call hands its connection back (to the pool) when it returns: an executor thread may
end with its event loop, and a connection left on a finished thread is never returned.
"""

import functools

from channels.db import DatabaseSyncToAsync
from django.db import connections


def database_sync_to_async_parallel(function):
    @functools.wraps(function)
    def run_and_release(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return DatabaseSyncToAsync(run_and_release, thread_sensitive=False)
