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
