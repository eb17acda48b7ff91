"""Database calls from the media worker's event loop."""

from asgiref.sync import sync_to_async
from django.db import reset_queries


def db(function):
    """``function`` as a coroutine function run in a worker thread.

    With ``DEBUG`` on, Django keeps every query of a thread's connection (up to 9000, reset
    only at the start of a web request). A media worker serves no requests: its threads' logs
    grew by ~0.4 MB per candidate per 10 minutes in ``bench/media``'s memory run. Cleared
    after each call, in the thread that made it (the logs are per thread)."""

    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            reset_queries()

    return sync_to_async(call, thread_sensitive=False)
