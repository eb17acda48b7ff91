"""A real daphne process and the Redis channel layer: signals in, alerts out, across processes."""

import asyncio
import json

import aiohttp
import pytest
from channels.db import database_sync_to_async as sync_to_async

from invigilate.proctoring.services import signal_record
from tests.realtime.test_candidate_socket import signed_in_cookie

from .sockets import staff_cookie

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


async def open_socket(session, server, path, cookie):
    return await session.ws_connect(
        f"{server.ws_url}{path}", headers={"Origin": server.url, "Cookie": cookie}
    )


async def next_of(socket, message_type, timeout=5):
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads((await socket.receive()).data)
            if message["type"] == message_type:
                return message


async def test_alerts_cross_from_the_candidates_socket_and_the_test_process_to_a_dashboard(live_world, daphne_server):
    staff = await sync_to_async(staff_cookie)(live_world.invigilator)
    candidate = await sync_to_async(signed_in_cookie)(live_world)
    async with aiohttp.ClientSession() as session:
        dashboard = await open_socket(session, daphne_server, f"/ws/room/{live_world.room_a.pk}/", staff)
        await dashboard.send_json({"type": "sync", "since": None})
        await next_of(dashboard, "synced")
        page = await open_socket(session, daphne_server, "/ws/candidate/", candidate)

        # Browser -> daphne (signal_record in the server process) -> Redis -> dashboard.
        await page.send_json({"type": "signal", "kind": "page_hidden", "seq": 1, "at": 0, "client": "c"})
        alert = await next_of(dashboard, "alert")
        assert alert["sequence"] == 1 and alert["status"] == "open"

        # A detector in another process (here, the test process) -> Redis -> the same dashboard.
        await sync_to_async(signal_record)(registration=live_world.candidate, kind="multiple_faces", source="detector")
        alert = await next_of(dashboard, "alert")
        assert alert["sequence"] == 2 and alert["severity"] == "high"
        await page.close()
        await dashboard.close()
