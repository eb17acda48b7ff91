import pytest


@pytest.fixture
def quiet_server(live_world, new_page, browser):
    """Close the test's pages, then wait until the live server has no transaction open, before
    the test database is flushed: pages that record and upload leave requests in flight, and a
    flush under a row lock deadlocks (PostgreSQL)."""
    yield
    from tests.e2e.test_live_alerts import server_transactions_wait

    for context in list(browser.contexts):
        context.close()
    server_transactions_wait()
