"""Evidence files are served with HTTP Range, so a player can seek."""

from django.urls import reverse

from tests.personas import PASSWORD


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def test_it_serves_a_whole_recording_then_any_range_of_it(world, reviewed, client):
    client.login(username="reviewer", password=PASSWORD)
    url = reverse("review:file", args=[world.candidate.pk, "segment", reviewed.segment_id])
    whole, body = _get(client, url)
    assert whole.status_code == 200 and body == reviewed.webm
    assert whole["Accept-Ranges"] == "bytes" and whole["Content-Type"] == "video/webm"
    assert "no-store" in whole["Cache-Control"]
    size = len(reviewed.webm)

    part, body = _get(client, url, Range="bytes=100-199")
    assert part.status_code == 206 and body == reviewed.webm[100:200]
    assert part["Content-Range"] == f"bytes 100-199/{size}" and part["Content-Length"] == "100"

    tail, body = _get(client, url, Range="bytes=-50")
    assert tail.status_code == 206 and body == reviewed.webm[-50:]

    open_ended, body = _get(client, url, Range=f"bytes={size - 10}-")
    assert body == reviewed.webm[-10:]

    beyond, _ = _get(client, url, Range=f"bytes={size}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{size}"


def test_it_serves_the_clients_upload_and_the_detector_snapshot(world, reviewed, client):
    client.login(username="reviewer", password=PASSWORD)
    upload, body = _get(client, reverse("review:file", args=[world.candidate.pk, "upload", reviewed.upload_id]))
    assert upload.status_code == 200 and body == reviewed.webm
    snapshot, body = _get(client, reverse("review:file", args=[world.candidate.pk, "detection",
                                                                 reviewed.detection_signal_id]))
    assert snapshot["Content-Type"] == "image/jpeg" and body.startswith(b"\xff\xd8")
