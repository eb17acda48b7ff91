"""The tus 1.0 server, request by request: every status code the protocol and the issue name."""

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.utils import timezone

from invigilate.audit.models import AuditEvent
from invigilate.audit.services import audit_chain_verify
from invigilate.evidence.models import Upload

from .tushelpers import b64, create, patch, pc_cookie, segment_metadata, tus, webm_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cookie(world):
    return pc_cookie(world.candidate, world.candidate_id_number)


def stored_bytes(path: str) -> bytes:
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[1])
    with default_storage.open(upload.file_name, "rb") as handle:
        return handle.read()


def test_it_advertises_version_extensions_and_checksums_on_options(world):
    reply = tus("OPTIONS", "/evidence/tus/", version=None)
    assert reply.status == 204
    assert reply.headers["tus-version"] == "1.0.0"
    assert set(reply.headers["tus-extension"].split(",")) == {"creation", "expiration", "checksum", "termination"}
    assert reply.headers["tus-checksum-algorithm"] == "sha1,sha256"
    assert int(reply.headers["tus-max-size"]) > 0


def test_it_answers_412_to_another_protocol_version(cookie):
    reply = tus("POST", "/evidence/tus/", cookie=cookie, version="0.2.2", headers={"upload-length": "10"})
    assert reply.status == 412 and reply.headers["tus-version"] == "1.0.0"


def test_it_refuses_requests_without_a_candidate_or_phone(world):
    data = webm_bytes(100)
    reply = tus("POST", "/evidence/tus/", headers={"upload-length": "100", "upload-metadata": segment_metadata(data)})
    assert reply.status == 403


def test_it_creates_an_upload_and_head_reports_offset_without_caching(cookie):
    data = webm_bytes(1000)
    path = create(cookie, data)
    reply = tus("HEAD", path, cookie=cookie)
    assert reply.status == 200
    assert reply.headers["upload-offset"] == "0" and reply.headers["upload-length"] == "1000"
    assert reply.headers["cache-control"] == "no-store"
    assert "GMT" in reply.headers["upload-expires"]
    assert "kind " in reply.headers["upload-metadata"]


def test_it_answers_413_over_the_maximum_size_and_over_the_quota(cookie, settings):
    settings.EVIDENCE_MAX_UPLOAD_BYTES = 5000
    settings.EVIDENCE_QUOTA_BYTES_PER_REGISTRATION = 8000
    big = webm_bytes(5001)
    reply = tus("POST", "/evidence/tus/", cookie=cookie,
                headers={"upload-length": "5001", "upload-metadata": segment_metadata(big)})
    assert reply.status == 413
    create(cookie, webm_bytes(5000), seq=0)
    second = webm_bytes(4000)
    reply = tus("POST", "/evidence/tus/", cookie=cookie,
                headers={"upload-length": "4000", "upload-metadata": segment_metadata(second, seq=1)})
    assert reply.status == 413 and b"quota" in reply.body


def test_it_answers_415_to_a_type_it_does_not_accept_and_to_a_wrong_patch_content_type(cookie):
    data = b"MZ\x90\x00" + b"x" * 100
    reply = tus("POST", "/evidence/tus/", cookie=cookie,
                headers={"upload-length": "104", "upload-metadata": segment_metadata(data, filetype="application/x-msdownload")})
    assert reply.status == 415
    path = create(cookie, webm_bytes(100))
    reply = tus("PATCH", path, cookie=cookie, headers={"content-type": "application/octet-stream", "upload-offset": "0"},
                chunks=[webm_bytes(100)])
    assert reply.status == 415


def test_it_answers_415_when_the_first_bytes_are_not_the_declared_type(cookie):
    data = b"\x89PNG\r\n\x1a\n" + b"x" * 92
    path = create(cookie, data, filetype="video/webm")
    reply = patch(cookie, path, 0, data[:2])  # even two bytes are enough to know
    assert reply.status == 415
    assert tus("HEAD", path, cookie=cookie).headers["upload-offset"] == "0"


def test_it_answers_409_on_a_wrong_offset_and_changes_nothing(cookie):
    data = webm_bytes(300)
    path = create(cookie, data)
    assert patch(cookie, path, 0, data[:100]).status == 204
    reply = patch(cookie, path, 50, data[50:150])
    assert reply.status == 409
    assert tus("HEAD", path, cookie=cookie).headers["upload-offset"] == "100"
    assert patch(cookie, path, 100, data[100:]).status == 204
    assert stored_bytes(path) == data


def test_it_answers_460_on_a_checksum_mismatch_and_discards_the_chunk(cookie):
    data = webm_bytes(200)
    path = create(cookie, data)
    wrong = "sha1 " + b64(hashlib.sha1(b"something else").digest())
    assert patch(cookie, path, 0, data[:100], checksum=wrong).status == 460
    assert tus("HEAD", path, cookie=cookie).headers["upload-offset"] == "0"
    # A hex digest is not the base64 the spec asks for: it can never match.
    hex_digest = "sha1 " + hashlib.sha1(data[:100]).hexdigest()
    assert patch(cookie, path, 0, data[:100], checksum=hex_digest).status == 460
    good_sha1 = "sha1 " + b64(hashlib.sha1(data[:100]).digest())
    assert patch(cookie, path, 0, data[:100], checksum=good_sha1).status == 204
    good_sha256 = "sha256 " + b64(hashlib.sha256(data[100:]).digest())
    reply = patch(cookie, path, 100, data[100:], checksum=good_sha256)
    assert reply.status == 204 and reply.headers["upload-offset"] == "200"
    assert stored_bytes(path) == data


def test_it_answers_400_to_an_unsupported_checksum_algorithm(cookie):
    data = webm_bytes(10)
    path = create(cookie, data)
    assert patch(cookie, path, 0, data, checksum="md5 " + b64(hashlib.md5(data).digest())).status == 400


def test_it_answers_413_to_a_body_past_the_declared_length(cookie):
    data = webm_bytes(100)
    path = create(cookie, data)
    assert patch(cookie, path, 0, data + b"extra").status == 413
    reply = tus("PATCH", path, cookie=cookie, headers={"content-type": "application/offset+octet-stream",
                                                       "upload-offset": "0"}, chunks=[data, b"extra"])
    assert reply.status == 413
    assert tus("HEAD", path, cookie=cookie).headers["upload-offset"] == "0"


def test_it_keeps_the_bytes_received_before_a_dropped_connection(cookie):
    data = webm_bytes(5000)
    path = create(cookie, data)
    tus("PATCH", path, cookie=cookie, headers={"content-type": "application/offset+octet-stream", "upload-offset": "0"},
        chunks=[data[:1000], data[1000:1500]], disconnect=True)
    assert tus("HEAD", path, cookie=cookie).headers["upload-offset"] == "1500"
    assert patch(cookie, path, 1500, data[1500:]).status == 204
    assert stored_bytes(path) == data


def test_a_new_writer_takes_over_from_a_dead_one(cookie):
    data = webm_bytes(400)
    path = create(cookie, data)
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[1])
    Upload.objects.filter(pk=upload.pk).update(writer_token="held-by-a-connection-that-died")
    assert patch(cookie, path, 0, data).status == 204
    assert stored_bytes(path) == data


@pytest.mark.parametrize("chunk_size", [1, 64 * 1024, 7919])
def test_it_assembles_multi_chunk_uploads_byte_exact(cookie, chunk_size):
    size = {1: 300, 64 * 1024: 200_000, 7919: 100_003}[chunk_size]
    data = webm_bytes(size, seed=chunk_size)
    path = create(cookie, data)
    for offset in range(0, size, chunk_size):
        reply = patch(cookie, path, offset, data[offset:offset + chunk_size])
        assert reply.status == 204, reply.body
        assert reply.headers["upload-offset"] == str(min(size, offset + chunk_size))
    assert stored_bytes(path) == data
    upload = Upload.objects.get(pk=path.rsplit("/", 1)[1])
    assert upload.status == Upload.Status.COMPLETE and upload.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.parts.count() == 1  # assembled into one file, parts removed
    assert not default_storage.exists(f"evidence/{upload.registration.exam_id}/{upload.registration_id}/parts/"
                                      f"{upload.pk.hex}-{0:012d}")


def test_it_appends_the_verified_sha256_to_the_audit_chain(cookie, world):
    data = webm_bytes(1234)
    path = create(cookie, data)
    assert patch(cookie, path, 0, data).status == 204
    event = AuditEvent.objects.get(event_type="evidence.upload_completed")
    assert event.data["sha256"] == hashlib.sha256(data).hexdigest() and event.registration_id == world.candidate.pk
    assert audit_chain_verify() == []


def test_it_rejects_a_whole_file_that_does_not_match_its_declared_sha256(cookie):
    data = webm_bytes(500)
    reply = tus("POST", "/evidence/tus/", cookie=cookie, headers={
        "upload-length": "500", "upload-metadata": segment_metadata(data).replace(
            segment_metadata(data).split(",")[4], "sha256 " + b64(("0" * 64).encode()))})
    path = reply.headers["location"].split("testserver", 1)[1]
    assert patch(cookie, path, 0, data).status == 460
    assert tus("HEAD", path, cookie=cookie).status == 410
    assert AuditEvent.objects.filter(event_type="evidence.upload_rejected").count() == 1
    assert create(cookie, data) != path  # the segment can be sent again


def test_it_answers_404_after_termination_and_never_deletes_finished_evidence(cookie):
    data = webm_bytes(100)
    path = create(cookie, data)
    assert patch(cookie, path, 0, data[:50]).status == 204
    assert tus("DELETE", path, cookie=cookie).status == 204
    assert tus("HEAD", path, cookie=cookie).status == 404
    assert patch(cookie, path, 50, data[50:]).status == 404
    finished = create(cookie, data, seq=1)
    assert patch(cookie, finished, 0, data).status == 204
    assert tus("DELETE", finished, cookie=cookie).status == 403
    assert stored_bytes(finished) == data


def test_it_answers_410_after_expiry(cookie):
    data = webm_bytes(100)
    path = create(cookie, data)
    assert patch(cookie, path, 0, data[:10]).status == 204
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        assert tus("HEAD", path, cookie=cookie).status == 410
        from invigilate.evidence.services import uploads_expire

        assert uploads_expire() == 1
    assert tus("HEAD", path, cookie=cookie).status == 410
    assert Upload.objects.get().parts.count() == 0


def test_another_candidate_cannot_see_or_continue_an_upload(cookie, world):
    data = webm_bytes(100)
    path = create(cookie, data)
    other = pc_cookie(world.other_candidate, world.other_candidate_id_number)
    assert tus("HEAD", path, cookie=other).status == 404
    assert patch(other, path, 0, data).status == 404
    assert tus("DELETE", path, cookie=other).status == 404


def test_creating_the_same_segment_again_returns_the_same_upload(cookie):
    data = webm_bytes(100)
    first = create(cookie, data)
    assert create(cookie, data) == first
    different = webm_bytes(100, seed=9)
    reply = tus("POST", "/evidence/tus/", cookie=cookie,
                headers={"upload-length": "100", "upload-metadata": segment_metadata(different)})
    assert reply.status == 409


def test_client_file_names_never_become_paths(cookie):
    data = webm_bytes(100)
    path = create(cookie, data, filename="../../../etc/passwd")
    assert patch(cookie, path, 0, data).status == 204
    upload = Upload.objects.get()
    assert ".." not in upload.file_name and "passwd" not in upload.file_name
    assert upload.file_name.startswith(f"evidence/{upload.registration.exam_id}/{upload.registration_id}/")


def test_it_refuses_a_foreign_origin(cookie):
    data = webm_bytes(100)
    reply = tus("POST", "/evidence/tus/", cookie=cookie, headers={
        "origin": "https://evil.example", "upload-length": "100", "upload-metadata": segment_metadata(data)})
    assert reply.status == 403
