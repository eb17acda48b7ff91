from django.test import Client

from invigilate.proctoring.services import alert_acknowledge, signal_record
from tests.personas import make_registration


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_it_sends_an_invigilator_home_to_their_rooms(world):
    client = client_for(world.invigilator)
    response = client.get("/staff/", follow=True)
    assert response.redirect_chain[-1][0] == "/proctoring/"
    page = response.content.decode()
    assert f"/proctoring/room/{world.room_a.pk}/" in page and f"/proctoring/room/{world.room_b.pk}/" not in page


def test_the_room_page_and_its_fragments_render_the_same_tile(world):
    make_registration(exam=world.exam, room=world.room_a, seat=2, name="Second")
    signal_record(registration=world.candidate, kind="no_face", source="detector")
    client = client_for(world.invigilator)
    page = client.get(f"/proctoring/room/{world.room_a.pk}/").content.decode()
    tile = client.get(f"/proctoring/room/{world.room_a.pk}/tile/{world.candidate.pk}/").content.decode()
    assert tile.strip() in page
    assert page.count('class="tile ') == 2 and 'data-open-alerts="1"' in page
    assert f'data-thumbnail-for="{world.candidate.pk}"' in page and f'id="tile-extra-{world.candidate.pk}"' in page
    assert "No face in the camera picture." in page and world.candidate.candidate.id_number_masked in page


def test_acknowledging_through_htmx_returns_the_alert_fragment(world):
    alert = signal_record(registration=world.candidate, kind="paste", source="browser").alert
    client = client_for(world.invigilator)
    response = client.post(f"/proctoring/alert/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'data-status="acknowledged"' in response.content.decode()
    again = client.post(f"/proctoring/alert/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert again.status_code == 409 and "alertError" in again["HX-Trigger"]
    dismissed = client.post(f"/proctoring/alert/{alert.pk}/dismiss/", {"reason": ""}, HTTP_HX_REQUEST="true")
    assert dismissed.status_code == 409
    resolved = client.post(f"/proctoring/alert/{alert.pk}/resolve/")
    assert resolved.status_code == 302


def test_the_drawer_shows_the_candidates_timeline_and_takes_actions(world):
    alert = signal_record(registration=world.candidate, kind="copy", source="browser", client_seq=1).alert
    alert_acknowledge(alert=alert, actor=world.invigilator)
    client = client_for(world.invigilator)
    url = f"/proctoring/candidate/{world.candidate.pk}/"
    response = client.post(url + "action/", {"kind": "warning", "text": "Keep your hands on the desk."},
                           HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "Keep your hands on the desk." in page and "not confirmed yet" in page
    assert "Copied from the exam page." in page and f"/media/focus/{world.candidate.pk}/" in page
    assert client.post(url + "action/", {"kind": "delete", "text": "x"}, HTTP_HX_REQUEST="true").status_code == 400


def test_the_candidate_page_loads_the_integrity_signals(world):
    from tests.realtime.test_candidate_socket import signed_in_cookie

    client = Client()
    client.cookies.load(signed_in_cookie(world))
    page = client.get("/candidate/", follow=True).content.decode()
    assert "js/integrity-signals.js" in page and 'id="integrity-warning"' in page
