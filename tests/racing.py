"""Real concurrency for tests on PostgreSQL: threads, each with its own connection."""

import threading

from django.db import connection


def race(workers: int, work) -> list:
    """Run ``work(i)`` in real threads, each on its own database connection, released together."""
    start = threading.Barrier(workers)
    results: list = [None] * workers

    def run(index):
        try:
            start.wait()
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001  (the result is what the test checks)
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
