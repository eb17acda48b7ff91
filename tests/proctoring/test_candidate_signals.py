"""The candidate page's socket: integrity signals and warnings."""

import pytest
from channels.db import database_sync_to_async as sync_to_async

from invigilate.exams.models import Registration
from invigilate.proctoring.models import Alert, Signal
from invigilate.proctoring.services import warning_issue
from tests.realtime.test_candidate_socket import communicator, signed_in_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def candidate_socket(world):
    socket = communicator(await sync_to_async(signed_in_cookie)(world))
    assert (await socket.connect(timeout=5))[0]
    return socket


def signal(kind, seq, **extra):
    return {"type": "signal", "kind": kind, "seq": seq, "at": 1_790_000_000_000, "client": "page-1", **extra}


async def test_it_records_each_signal_once_and_raises_its_alert(live_world):
    socket = await candidate_socket(live_world)
    await socket.send_json_to(signal("focus_lost", 1))
    await socket.send_json_to(signal("focus_lost", 1))  # a resend after reconnecting
    await socket.send_json_to(signal("focus_gained", 2, data={"away_ms": 4200}))
    await socket.send_json_to({"type": "clock"})  # round trip: the signals before it are done
    assert (await socket.receive_json_from())["type"] == "clock"
    kinds = await sync_to_async(lambda: list(Signal.objects.values_list("kind", "client_seq", "client_time")))()
    assert [(kind, seq) for kind, seq, _ in kinds] == [("focus_lost", 1), ("focus_gained", 2)]
    assert kinds[0][2].year == 2026
    alert = await sync_to_async(Alert.objects.get)()
    assert alert.kind == "focus_lost" and alert.count == 1
    await socket.disconnect()


async def test_it_answers_malformed_signals_with_an_error_and_records_them(live_world):
    socket = await candidate_socket(live_world)
    await socket.send_json_to(signal("rm_rf", 1))
    assert (await socket.receive_json_from()) == {
        "type": "error", "error": "bad_message", "detail": "unknown signal kind 'rm_rf'"}
    await socket.send_json_to(signal("copy", "seven"))
    assert (await socket.receive_json_from())["error"] == "bad_message"
    await socket.send_json_to(signal("copy", 3, data=[1, 2]))
    assert (await socket.receive_json_from())["error"] == "bad_message"
    recorded = await sync_to_async(lambda: list(Signal.objects.values_list("kind", flat=True)))()
    assert recorded == ["malformed_message", "malformed_message"]
    assert not await sync_to_async(Alert.objects.exists)()
    await socket.disconnect()


async def test_a_heartbeat_marks_the_candidate_connected(live_world):
    socket = await candidate_socket(live_world)
    await socket.send_json_to(signal("heartbeat", 1))
    await socket.send_json_to({"type": "clock"})
    await socket.receive_json_from()
    registration = await sync_to_async(Registration.objects.get)(pk=live_world.candidate.pk)
    assert registration.connected and registration.last_seen_at
    assert not await sync_to_async(Signal.objects.exists)()  # heartbeats are not stored one by one
    await socket.disconnect()


async def test_a_warning_reaches_the_candidate_and_the_confirmation_comes_back(live_world):
    socket = await candidate_socket(live_world)
    warning = await sync_to_async(warning_issue)(
        registration=live_world.candidate, actor=live_world.invigilator, message="Please face the camera."
    )
    pushed = await socket.receive_json_from(timeout=3)
    assert pushed == {"type": "warning.issued", "warning_id": warning.pk, "message": "Please face the camera."}
    await socket.send_json_to({"type": "warnings.pending"})
    assert (await socket.receive_json_from())["warnings"] == [{"warning_id": warning.pk, "message": "Please face the camera."}]
    await socket.send_json_to({"type": "warning.confirm", "warning_id": warning.pk})
    assert (await socket.receive_json_from()) == {"type": "warning.confirm_result", "warning_id": warning.pk, "ok": True}
    await socket.send_json_to({"type": "warnings.pending"})
    assert (await socket.receive_json_from())["warnings"] == []
    await socket.disconnect()


async def test_alerts_about_a_candidate_are_not_sent_to_the_candidate(live_world):
    socket = await candidate_socket(live_world)
    await socket.send_json_to(signal("paste", 1))
    assert await socket.receive_nothing(timeout=0.3)
    await socket.disconnect()


async def test_later_heartbeats_are_written_together(live_world, monkeypatch):
    import asyncio
    from datetime import timedelta

    from django.utils import timezone

    from invigilate.accounts.models import CandidateSession

    monkeypatch.setattr("invigilate.proctoring.candidate_messages.PRESENCE_FLUSH_SECONDS", 0.05)
    socket = await candidate_socket(live_world)
    await socket.send_json_to(signal("heartbeat", 1))
    await socket.send_json_to({"type": "clock"})
    await socket.receive_json_from()
    long_ago = timezone.now() - timedelta(minutes=1)
    await sync_to_async(lambda: (
        Registration.objects.filter(pk=live_world.candidate.pk).update(last_seen_at=long_ago),
        CandidateSession.objects.update(last_seen_at=long_ago),
    ))()
    await socket.send_json_to(signal("heartbeat", 2))
    await asyncio.sleep(0.3)
    registration = await sync_to_async(Registration.objects.get)(pk=live_world.candidate.pk)
    session = await sync_to_async(CandidateSession.objects.get)()
    assert registration.connected and registration.last_seen_at > long_ago and session.last_seen_at > long_ago
    await socket.disconnect()
