"""The per-candidate export: timeline JSON + CSV, evidence with SHA-256, audit-chain verdict."""

import csv
import hashlib
import io
import json
import zipfile

from django.urls import reverse

from invigilate.audit.models import AuditEvent
from tests.personas import PASSWORD


def _export(client, world):
    client.login(username="reviewer", password=PASSWORD)
    response = client.get(reverse("review:export", args=[world.candidate.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_it_exports_the_timeline_the_evidence_and_the_chain_verdict(world, reviewed, client):
    archive = _export(client, world)
    names = set(archive.namelist())
    assert {"timeline.json", "timeline.csv", "manifest.json", "SHA256SUMS", "audit-chain-verification.json",
            "decisions.json"} <= names
    timeline = json.loads(archive.read("timeline.json"))
    assert any(entry["kind"] == "alert" and entry["severity"] == "high" for entry in timeline)
    rows = list(csv.DictReader(io.StringIO(archive.read("timeline.csv").decode("utf-8-sig"))))
    assert len(rows) == len(timeline)
    manifest = json.loads(archive.read("manifest.json"))["files"]
    videos = [item for item in manifest if item["category"] in {"segment", "upload"}]
    assert len(videos) == 2
    for item in videos:
        assert hashlib.sha256(archive.read(item["path"])).hexdigest() == item["sha256"] == item["recorded_sha256"]
        assert item["matches_recorded"] is True
    assert any(item["category"] == "detection" for item in manifest)
    assert json.loads(archive.read("audit-chain-verification.json"))["intact"] is True
    assert AuditEvent.objects.filter(event_type="review.exported", registration_id=world.candidate.pk).exists()


def test_it_reports_a_broken_chain_and_a_file_that_no_longer_matches(world, reviewed, client):
    from django.core.files.storage import default_storage

    from invigilate.media.models import RecordingSegment

    path = RecordingSegment.objects.get(pk=reviewed.segment_id).path
    with default_storage.open(path, "wb") as handle:
        handle.write(b"tampered")
    AuditEvent.objects.filter(chain=world.exam.pk, event_type="alert.raised").update(data={"edited": True})
    archive = _export(client, world)
    verdict = json.loads(archive.read("audit-chain-verification.json"))
    assert verdict["intact"] is False and verdict["broken"]
    segment = next(item for item in json.loads(archive.read("manifest.json"))["files"] if item["category"] == "segment")
    assert segment["matches_recorded"] is False
