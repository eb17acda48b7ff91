"""Running the ORM from the sockets without queueing every candidate behind one thread.

``channels.db.database_sync_to_async`` is thread-sensitive by default: every ORM call of a
process runs on one shared thread, one after the other. With a thousand candidates sending
heartbeats and signals, that thread, not the CPU or the database, is the bottleneck (the
alerts benchmark measured seconds of queueing). Signals and dashboard renders share no
thread-bound state, so they run on the executor's threads, each borrowing its own
connection from the pool, and the connection is returned after each call.
"""

from channels.db import DatabaseSyncToAsync


def database_sync_to_async_parallel(function):
    return DatabaseSyncToAsync(function, thread_sensitive=False)
