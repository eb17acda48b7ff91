"""Test set-up: what runs where, and the shared fixtures.

- With DATABASE_URL / REDIS_URL set, tests run against them; tests marked ``postgres`` or
  ``redis`` are skipped (and listed) only when those are not configured.
- Tests marked ``e2e`` drive Debian's /usr/bin/chromium; without it they are skipped, unless
  E2E=required, when a missing browser fails the run.
"""

import asyncio
import asyncio.runners
import os
import shutil
import sys

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls that tests make
# around it are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ.setdefault("INVIGILATE_FAST_PASSWORD_HASHER", "1")
# WebRTC in tests stays on 127.0.0.1 (the live server and media workers inherit this).
os.environ.setdefault("MEDIA_ICE_LOOPBACK_ONLY", "1")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
E2E_REQUIRED = os.environ.get("E2E") == "required"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]


def _cancel_all_tasks_bounded(loop):
    """asyncio.runners' own clean-up, but waiting at most 10 s for cancelled tasks.

    Seen in the Redis runs, about one in three: after an async test, a task of the test's
    event loop (a consumer still connected through channels-redis) never finished after being
    cancelled, and the whole suite hung in the loop's teardown. The tasks are named on stderr
    so that the cause can be found; the suite goes on either way.
    """
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    done, pending = loop.run_until_complete(asyncio.wait(tasks, timeout=10))
    for task in pending:
        sys.stderr.write(f"\nasync test teardown: task still running 10 s after cancel: {task!r}\n")
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {"message": "unhandled exception during test teardown", "exception": task.exception(), "task": task}
            )


asyncio.runners._cancel_all_tasks = _cancel_all_tasks_bounded


def pytest_configure(config):
    from django.conf import settings

    # Settings may already be loaded by pytest-django; the live server reads the env var.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ICE_LOOPBACK_ONLY = True
    from invigilate.media.ice import ice_loopback_restrict

    ice_loopback_restrict()


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    # Browser tests last: Playwright's sync API keeps an event loop in the main thread for
    # the rest of the session, which async tests could not share.
    items.sort(key=lambda item: "e2e" in item.keywords)

    is_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_browser = os.path.exists(CHROMIUM)
    for item in items:
        if "postgres" in item.keywords and not is_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not settings.REDIS_URL:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))
        if "e2e" in item.keywords:
            # A browser test that fails is run once more, and the rerun is reported ("R" and
            # "rerun" in the summary): a real page on a loaded 2-core machine now and then
            # misses a timing its assertions allow, and one such miss must not hide the rest.
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))
        if "e2e" in item.keywords and not has_browser and not E2E_REQUIRED:
            item.add_marker(pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"))


PAGES_AT_FAILURE = "pages at the failure"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # A browser test that fails says where each of its pages was and what it showed: a
    # timeout alone ("waiting for locator(...)") does not tell a wrong page from a slow one.
    report = yield
    make = item.funcargs.get("new_page") if report.when == "call" and report.failed else None
    if make is not None:
        lines = []
        for context in getattr(make, "contexts", []):
            for page in context.pages:
                try:
                    text = page.inner_text("body", timeout=1_000)
                    lines.append(f"{page.url}\n    " + " | ".join(text.split("\n"))[:600])
                except Exception as error:  # a closed or crashed page says so
                    lines.append(f"{page.url}: {type(error).__name__}")
        report.sections.append((PAGES_AT_FAILURE, "\n".join(lines)))
    return report


def pytest_terminal_summary(terminalreporter):
    # A rerun that passes leaves only its name ("RERUN") in the summary; its first failure is
    # what tells a flaky page from a real bug, so print it (with its pages, if it had some).
    reruns = terminalreporter.stats.get("rerun", [])
    if reruns:
        terminalreporter.section("first failures of the tests that were run again")
        for report in reruns:
            terminalreporter.write_sep("_", report.nodeid)
            terminalreporter.write_line(report.longreprtext)
            for title, content in report.sections:
                if title == PAGES_AT_FAILURE:
                    terminalreporter.write_line(f"{title}:\n{content}")


@pytest.fixture(autouse=True)
def _channel_layer_per_test():
    """Each test gets its own Redis channel layer object. channels-redis keeps its receiving
    state on the object (a lock, a count of receivers, the event loop they run in) while
    every async test runs in an event loop of its own: a layer shared across tests once failed
    a whole run's later sockets with "Lock ... is bound to a different event loop" (CI,
    PostgreSQL + Redis). Groups live in Redis, so a new object loses nothing. The in-memory
    layer of the embedded mode keeps its groups in the object and is left alone."""
    yield
    from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
    from django.conf import settings

    if "redis" in settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER]["BACKEND"]:
        channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in Chinese leaves Chinese active in the thread; the next test starts in English."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def world(db):
    from tests.personas import make_world

    return make_world()


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker):
    """``manage.py serve`` on the test database, shared by the session's end-to-end tests."""
    from tests.live import LiveServer

    with django_db_blocker.unblock():
        server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM) or not shutil.which(CHROMIUM):
        pytest.fail(f"E2E=required but there is no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(transactional_db, browser, daphne_server):
    """Make a page in a fresh browser context (its own cookies), as many as a test needs.

    Asks for ``transactional_db`` so that its own teardown runs before the database flush:
    it closes the pages, then waits until the server has no transaction open, because a flush
    that meets a request still in flight deadlocks on PostgreSQL.
    """
    contexts = []

    def make(**context_args):
        context = browser.new_context(
            base_url=daphne_server.url, permissions=["camera", "microphone"], locale="en-US", **context_args
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    make.contexts = contexts  # for pytest_runtest_makereport: what the pages showed at a failure
    yield make
    for context in contexts:
        context.close()
    from tests.live import server_transactions_wait

    server_transactions_wait()


@pytest.fixture
def live_world(transactional_db):
    """The personas, committed, so that the live server process sees them."""
    from tests.personas import make_world

    return make_world()
