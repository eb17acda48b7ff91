"""Face detection and identity on labelled pictures shipped in packages; prints precision/recall."""

import numpy as np
import pytest

from invigilate.media.faces import face_match, faces_detect
from tests.media import material


def test_it_counts_faces_on_labelled_pictures_with_full_precision_and_recall():
    cases = [(material.astronaut(), 1), (material.grace_hopper(), 1), (material.webcam_like(material.astronaut()), 1),
             (material.two_people(), 2)] + [(make(), 0) for make in material.FACELESS.values()]
    true_positive = false_positive = false_negative = 0
    for image, expected in cases:
        found = len(faces_detect(np.ascontiguousarray(image)))
        true_positive += min(found, expected)
        false_positive += max(0, found - expected)
        false_negative += max(0, expected - found)
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    print(f"faces: precision={precision:.2f} recall={recall:.2f} on {len(cases)} pictures")
    assert precision == 1.0 and recall == 1.0


def test_it_finds_the_faces_mediapipe_s_own_graph_finds_with_the_same_model():
    # The detector decodes the model's output itself (faces.FaceModel); MediaPipe's legacy
    # graph, which runs the same model file, is the reference.
    import mediapipe

    reference = mediapipe.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
    pictures = [material.astronaut(), material.grace_hopper(), material.webcam_like(material.astronaut()),
                material.two_people()] + [make() for make in material.FACELESS.values()]
    compared = 0
    for image in map(np.ascontiguousarray, pictures):
        height, width = image.shape[:2]
        expected = sorted(reference.process(image).detections or [], key=lambda d: d.location_data.relative_bounding_box.xmin)
        found = sorted(faces_detect(image), key=lambda box: box.x)
        assert len(found) == len(expected)
        for face, detection in zip(found, expected, strict=True):
            box = detection.location_data.relative_bounding_box
            tolerance = 0.1 * box.width * width
            assert abs(face.x - box.xmin * width) < tolerance and abs(face.y - box.ymin * height) < tolerance
            assert abs(face.width - box.width * width) < tolerance
            assert abs(face.score - detection.score[0]) < 0.1
            for (x, y), point in zip(face.keypoints, detection.location_data.relative_keypoints, strict=True):
                assert abs(x - point.x * width) < tolerance and abs(y - point.y * height) < tolerance
            compared += 1
    assert compared == 5


def test_it_matches_the_same_person_and_not_another():
    photo = material.jpeg(material.astronaut())
    same = face_match(registered_photo=photo, frame=material.jpeg(material.webcam_like(material.astronaut())))
    other = face_match(registered_photo=photo, frame=material.jpeg(material.webcam_like(material.grace_hopper())))
    assert same.matched and same.faces_found == 1 and same.score > other.score
    assert not other.matched and other.faces_found == 1


def test_it_refuses_a_match_with_nobody_or_two_people_in_the_frame():
    photo = material.jpeg(material.astronaut())
    nobody = face_match(registered_photo=photo, frame=material.jpeg(material.FACELESS["blank"]()))
    crowd = face_match(registered_photo=photo, frame=material.jpeg(material.two_people()))
    assert (nobody.matched, nobody.faces_found) == (False, 0)
    assert (crowd.matched, crowd.faces_found) == (False, 2)
    with pytest.raises(ValueError):
        face_match(registered_photo=b"not an image", frame=photo)
