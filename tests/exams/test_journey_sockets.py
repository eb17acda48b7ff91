"""The journey's pushes over the websockets: the candidate's page follows ``journey.changed``;
the room's invigilators get identity reviews live on the proctoring room socket."""

import pytest
from channels.db import database_sync_to_async as sync_to_async

from invigilate.exams import services
from invigilate.exams.models import Registration
from tests.proctoring.sockets import receive_until, room_socket, staff_cookie
from tests.realtime.test_candidate_socket import communicator, signed_in_cookie

pytestmark = pytest.mark.django_db(transaction=True)
Stage = Registration.Stage


async def test_the_candidates_page_hears_journey_changed_for_its_own_registration_only(live_world):
    cookie = await sync_to_async(signed_in_cookie)(live_world)
    socket = communicator(cookie)
    assert (await socket.connect())[0]
    await sync_to_async(services.registration_stage_set)(registration=live_world.other_candidate,
                                                         stage=Stage.DEVICE_CHECK)
    assert await socket.receive_nothing(timeout=0.3)
    await sync_to_async(services.registration_stage_set)(registration=live_world.candidate, stage=Stage.DEVICE_CHECK)
    assert await socket.receive_json_from(timeout=3) == {"type": "journey.changed", "stage": "device_check"}
    await socket.disconnect()


async def test_the_rooms_invigilators_hear_an_identity_review_requested_and_decided(live_world):
    registration = live_world.candidate

    def at_identity():
        services.registration_stage_set(registration=registration, stage=Stage.DEVICE_CHECK)
        services.registration_stage_set(registration=registration, stage=Stage.IDENTITY_CHECK)

    await sync_to_async(at_identity)()
    own = room_socket(live_world.room_a.pk, await sync_to_async(staff_cookie)(live_world.invigilator))
    other = room_socket(live_world.room_b.pk, await sync_to_async(staff_cookie)(live_world.other_invigilator))
    assert (await own.connect())[0] and (await other.connect())[0]
    # No registered photo: the server cannot decide, so the attempt waits for the invigilator.
    attempt = await sync_to_async(services.identity_attempt_record)(registration=registration, photo=b"\xff\xd8live")
    requested = (await receive_until(own, "identity.review_requested"))[-1]
    assert requested == {"type": "identity.review_requested", "registration_id": registration.pk,
                         "attempt_id": attempt.pk}
    await sync_to_async(services.identity_attempt_decide)(attempt=attempt, user=live_world.invigilator, approve=True)
    decided = (await receive_until(own, "identity.decided"))[-1]
    assert decided["attempt_id"] == attempt.pk
    assert await other.receive_nothing(timeout=0.3)  # another room hears nothing of it
    await own.disconnect()
    await other.disconnect()
