"""Wall thumbnails from VP8 keyframes: the right colours, the right size, and the picture
summary of the same picture; FFmpeg's scalers are kept per thread and per shape."""

import io
import threading
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from invigilate.media import thumbnails
from invigilate.media.detectors import picture_moved


def keyframe(image: np.ndarray) -> bytes:
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
    encoder.time_base = Fraction(1, 10)
    frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
    frame.pts = 0
    return b"".join(bytes(packet) for packet in [*encoder.encode(frame), *encoder.encode(None)])


def halves(width: int, height: int) -> np.ndarray:
    """Red on the left, blue on the right."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = (220, 30, 30)
    image[:, width // 2:] = (30, 30, 220)
    return image


@pytest.mark.parametrize(("width", "height", "size"), [(320, 240, (320, 240)), (1280, 720, (320, 180))])
def test_a_keyframe_becomes_a_jpeg_of_the_same_colours_at_thumbnail_size(settings, tmp_path, width, height, size):
    settings.MEDIA_ROOT = tmp_path
    jpeg, picture, _taken_ms = thumbnails.thumbnail_from_keyframe(
        keyframe(halves(width, height)), registration_id=7, track="camera", taken_at=1_700_000_000.0, summary=True)
    image = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB")).astype(int)
    assert image.shape[1::-1] == size
    left, right = image[:, : size[0] // 4].mean(axis=(0, 1)), image[:, -size[0] // 4:].mean(axis=(0, 1))
    assert left[0] > 180 and left[2] < 70, left  # red stays red (not swapped with blue)
    assert right[2] > 180 and right[0] < 70, right
    # The summary is of the same picture: a mid-grey average, contrast between the halves.
    assert 40 < picture["brightness"] < 110 and picture["contrast"] > 5
    assert (tmp_path / "thumbnails/7/camera/1700000000000.jpg").read_bytes() == jpeg


def test_a_moved_picture_gives_another_signature_and_the_same_picture_the_same(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first = halves(320, 240)
    moved = np.roll(first, 80, axis=1)
    summaries = [thumbnails.thumbnail_from_keyframe(keyframe(image), registration_id=7, track="camera",
                                                    taken_at=1_700_000_000.0 + index, summary=True)[1]
                 for index, image in enumerate([first, first, moved])]
    assert not picture_moved(summaries[0]["signature"], summaries[1]["signature"])
    assert picture_moved(summaries[1]["signature"], summaries[2]["signature"])


def test_each_thread_keeps_one_scaler_per_shape():
    shape = (320, 240, "yuv420p", 320, 240)
    assert thumbnails._scaler(shape) is thumbnails._scaler(shape)
    assert thumbnails._scaler(shape) is not thumbnails._scaler((1280, 720, "yuv420p", 320, 180))
    other = []
    thread = threading.Thread(target=lambda: other.append(thumbnails._scaler(shape)))
    thread.start()
    thread.join()
    assert other[0] is not thumbnails._scaler(shape)


def test_a_thumbnail_is_written_on_local_disk_replaced_in_its_millisecond_and_its_folder_remade(settings, tmp_path):
    import shutil

    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = tmp_path
    settings.FILE_UPLOAD_PERMISSIONS = 0o640
    path, taken_ms = thumbnails.thumbnail_store(registration_id=7, track="camera", jpeg=b"first", taken_at=1_700_000_000.5)
    assert (path, taken_ms) == ("thumbnails/7/camera/1700000000500.jpg", 1_700_000_000_500)
    thumbnails.thumbnail_store(registration_id=7, track="camera", jpeg=b"second", taken_at=1_700_000_000.5)
    with default_storage.open(path) as stored:
        assert stored.read() == b"second"
    assert (tmp_path / path).stat().st_mode & 0o777 == 0o640
    shutil.rmtree(tmp_path / "thumbnails")  # e.g. a cleaned disk: the remembered folder is gone
    thumbnails.thumbnail_store(registration_id=7, track="camera", jpeg=b"third", taken_at=1_700_000_001.0)
    assert (tmp_path / "thumbnails/7/camera/1700000001000.jpg").read_bytes() == b"third"


def test_a_thumbnail_goes_through_the_storage_when_it_is_not_local_disk(settings):
    from django.core.files.storage import default_storage

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    path, _ = thumbnails.thumbnail_store(registration_id=7, track="screen", jpeg=b"one", taken_at=1_700_000_000.0)
    thumbnails.thumbnail_store(registration_id=7, track="screen", jpeg=b"two", taken_at=1_700_000_000.0)
    with default_storage.open(path) as stored:
        assert stored.read() == b"two"
    assert default_storage.listdir("thumbnails/7/screen")[1] == ["1700000000000.jpg"]


def test_a_thumbnail_url_is_the_one_reverse_gives_under_any_script_prefix():
    from django.urls import reverse, set_script_prefix

    def expected(registration_id, track, taken_ms):
        return reverse("media:thumbnail", kwargs={"registration_id": registration_id, "track": track, "taken_ms": taken_ms})

    try:
        for prefix in ("/", "/exams/"):
            set_script_prefix(prefix)
            for registration_id, track, taken_ms in ((7, "camera", 1764780000123), (7, "screen", 5), (70, "camera", 0)):
                url = thumbnails.thumbnail_url(registration_id=registration_id, track=track, taken_ms=taken_ms)
                assert url == expected(registration_id, track, taken_ms)
                assert url.startswith(prefix)
    finally:
        set_script_prefix("/")
