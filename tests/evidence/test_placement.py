"""Placement corrections: the invigilator asks (drawer or focus view), the phone shows it at
once over its own socket, the candidate confirms there; both are in the audit chain."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from invigilate.audit.models import AuditEvent
from invigilate.evidence import services
from invigilate.evidence.models import PlacementRequest
from invigilate.evidence.selectors import PHONE_DEVICE_KEY
from tests.media.test_media_worker import receive_type, socket
from tests.realtime.test_candidate_socket import signed_in_cookie


def paired_phone_cookie(registration) -> str:
    """A phone browser's session after it redeemed a pairing code of ``registration``."""
    store = SessionStore()
    store.create()
    code = services.pairing_code_issue(registration=registration)
    phone = services.pairing_code_redeem(token=code.token, session_key=store.session_key)
    store[PHONE_DEVICE_KEY] = phone.pk
    store.save()
    return f"sessionid={store.session_key}"


def staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_only_the_rooms_invigilators_and_the_exams_supervisors_may_ask(world):
    paired_phone_cookie(world.candidate)
    url = reverse("evidence:placement", args=[world.candidate.pk])
    for user in (world.other_invigilator, world.technician, world.reviewer, world.outsider):
        assert staff(user).post(url, {"kind": "more_desk"}).status_code == 404, user
        assert staff(user).get(url).status_code == 404, user
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert not PlacementRequest.objects.exists()
    for user in (world.invigilator, world.supervisor):
        response = staff(user).post(url, {"kind": "include_screen"}, headers={"HX-Request": "true"})
        assert response.status_code == 200 and b"not confirmed yet" in response.content
        assert b'hx-trigger="click, every 2s"' in response.content  # polls until confirmed
    assert PlacementRequest.objects.count() == 2


@pytest.mark.django_db
def test_it_refuses_a_request_it_cannot_deliver_or_that_says_nothing(world):
    url = reverse("evidence:placement", args=[world.candidate.pk])
    response = staff(world.invigilator).post(url, {"kind": "more_desk"}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and b"no paired phone" in response.content
    paired_phone_cookie(world.candidate)
    response = staff(world.invigilator).post(url, {"kind": "other", "text": "  "}, headers={"HX-Request": "true"})
    assert response.status_code == 400 and b"Write what the candidate should change" in response.content
    response = staff(world.invigilator).post(url, {"kind": "nonsense"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert not PlacementRequest.objects.exists()


@pytest.mark.django_db
def test_the_focus_view_and_the_drawer_load_the_panel(world):
    placement = reverse("evidence:placement", args=[world.candidate.pk]).encode()
    invigilator = staff(world.invigilator)
    assert placement in invigilator.get(f"/media/focus/{world.candidate.pk}/").content
    assert placement in invigilator.get(reverse("proctoring:drawer", args=[world.candidate.pk])).content


@pytest.mark.django_db(transaction=True)
async def test_the_phone_shows_the_request_at_once_and_the_candidate_confirms_it(live_world):
    world = live_world
    phone = socket("/ws/phone/", await sync_to_async(paired_phone_cookie)(world.candidate))
    assert (await phone.connect())[0]
    await phone.send_json_to({"type": "placement.pending"})
    assert (await receive_type(phone, "placement.pending"))["requests"] == []

    request = await sync_to_async(services.placement_request_send)(
        registration=world.candidate, actor=world.invigilator, kind="other", text="Turn it a little to the left")
    shown = await receive_type(phone, "placement.requested")
    assert shown == {"type": "placement.requested", "request_id": request.pk, "kind": "other",
                     "text": "Turn it a little to the left"}
    # A phone that reconnects sees what is still to confirm.
    await phone.send_json_to({"type": "placement.pending"})
    assert [r["request_id"] for r in (await receive_type(phone, "placement.pending"))["requests"]] == [request.pk]

    await phone.send_json_to({"type": "placement.confirm", "request_id": request.pk})
    assert (await receive_type(phone, "placement.confirm_result"))["ok"] is True
    await phone.send_json_to({"type": "placement.confirm", "request_id": request.pk})
    assert (await receive_type(phone, "placement.confirm_result"))["ok"] is False
    await phone.send_json_to({"type": "placement.confirm", "request_id": "x"})
    assert (await receive_type(phone, "error"))["error"] == "bad_message"
    await phone.disconnect()

    await sync_to_async(request.refresh_from_db)()
    assert request.status == "confirmed" and request.confirmed_at
    events = await sync_to_async(lambda: list(AuditEvent.objects.filter(
        event_type__startswith="evidence.placement").order_by("pk").values_list("event_type", "actor_label")))()
    assert events == [("evidence.placement_requested", f"user:{world.invigilator.pk}"),
                      ("evidence.placement_confirmed", f"candidate:{world.candidate.pk}")]


@pytest.mark.django_db(transaction=True)
async def test_the_phone_socket_speaks_only_for_a_paired_phone(live_world):
    world = live_world
    stranger = socket("/ws/phone/", "sessionid=nothing")
    assert (await stranger.connect()) == (False, 4401)
    # The PC's socket is not the phone's: it cannot confirm placements nor send as the phone.
    pc = socket("/ws/candidate/", await sync_to_async(signed_in_cookie)(world))
    assert (await pc.connect())[0]
    await pc.send_json_to({"type": "placement.confirm", "request_id": 1})
    assert (await receive_type(pc, "error"))["error"] == "unknown_type"
    await pc.send_json_to({"type": "webrtc.offer", "source": "phone", "sdp": "v=0\r\n"})
    refused = await receive_type(pc, "error")
    assert refused["error"] == "bad_message" and "pc" in refused["detail"]
    await pc.disconnect()

    # Pairing another phone closes the first phone's socket.
    first = socket("/ws/phone/", await sync_to_async(paired_phone_cookie)(world.candidate))
    assert (await first.connect())[0]
    await sync_to_async(paired_phone_cookie)(world.candidate)
    assert (await receive_type(first, "session.revoked"))["reason"] == "phone_replaced"
    assert (await first.receive_output(timeout=2))["type"] == "websocket.close"
