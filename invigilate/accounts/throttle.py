"""Counting failed logins in the cache (Redis in production, so every web process agrees)."""

from django.core.cache import cache


def failures_count(key: str) -> int:
    return cache.get(key, 0)


def failure_record(key: str, *, lifetime_seconds: int) -> int:
    # add() then incr() keeps the count atomic in Redis; the lifetime starts at the first failure.
    cache.add(key, 0, timeout=lifetime_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=lifetime_seconds)
        return 1


def failures_clear(key: str) -> None:
    cache.delete(key)
