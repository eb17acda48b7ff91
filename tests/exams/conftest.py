import time

import pytest


@pytest.fixture
def quiet_server(live_world, new_page, browser):
    """Close the test's pages, then wait until the live server has no transaction open, before
    the test database is flushed: pages that record and upload leave requests in flight, and a
    flush under a lock deadlocks (PostgreSQL)."""
    yield
    from tests.live import server_transactions_wait

    for context in list(browser.contexts):
        context.close()
    # The server reacts to the closed sockets (presence, sessions) and writes the connected
    # candidates' heartbeats every 2 s: let that settle, then wait out what is still open.
    time.sleep(2.5)
    server_transactions_wait()
