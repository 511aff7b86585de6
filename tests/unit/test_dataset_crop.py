"""Crop boxes and kohya buckets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smoothie.dataset.crop import bucket_resolutions, crop_box, select_bucket
from smoothie.dataset.options import CropMode


def test_buckets_match_kohya_for_512() -> None:
    # sd-scripts' library/model_util.make_bucket_resolutions((512, 512), 256, 1024, 64): each width from
    # 256 to 1024 in steps of 64 with the largest 64-multiple height inside 512², both orientations.
    assert bucket_resolutions(512) == [
        (256, 832), (256, 896), (256, 960), (256, 1024), (320, 704), (320, 768), (384, 640), (448, 576),
        (512, 512),
        (576, 448), (640, 384), (704, 320), (768, 320), (832, 256), (896, 256), (960, 256), (1024, 256),
    ]  # fmt: skip


@pytest.mark.parametrize("size", [512, 768, 1024])
def test_buckets_are_multiples_of_64_within_the_area(size: int) -> None:
    for w, h in bucket_resolutions(size):
        assert w % 64 == 0 and h % 64 == 0
        assert w * h <= size * size


def test_select_bucket_takes_the_nearest_aspect() -> None:
    buckets = bucket_resolutions(512)
    assert select_bucket(1920, 1080, buckets) == (640, 384)
    assert select_bucket(1000, 1000, buckets) == (512, 512)
    assert select_bucket(600, 1000, buckets) == (384, 640)


SIZES = st.integers(min_value=16, max_value=4000)


@given(SIZES, SIZES, st.sampled_from([CropMode.SMART, CropMode.CENTER, CropMode.BUCKET]))
def test_cut_boxes_stay_inside_and_match_the_target_aspect(w: int, h: int, mode: CropMode) -> None:
    (left, top, right, bottom), target = crop_box(mode, w, h, 512)
    assert 0 <= left < right <= w and 0 <= top < bottom <= h
    # The box is as large as possible: it spans the full width or the full height.
    assert right - left == w or bottom - top == h
    aspect = target[0] / target[1]
    assert abs((right - left) / (bottom - top) - aspect) <= 1.0 / min(right - left, bottom - top) * aspect + 1e-9


@given(SIZES, SIZES)
def test_up_pads_to_a_square_centred_on_the_image(w: int, h: int) -> None:
    (left, top, right, bottom), target = crop_box(CropMode.UP, w, h, 512)
    assert target == (512, 512)
    assert right - left == bottom - top == max(w, h)
    assert left <= 0 and top <= 0 and right >= w and bottom >= h
    assert abs(-left - (right - w)) <= 1 and abs(-top - (bottom - h)) <= 1


def test_smart_keeps_the_face_in_view() -> None:
    # A landscape image with a face near the right edge: the square moves right to include it.
    (left, _, right, _), _ = crop_box(CropMode.SMART, 1000, 500, 512, regions=[(0.85, 0.2, 0.95, 0.4)])
    assert left <= 850 and right >= 950
    # A tall image with a face at the top: the face sits in the upper part of the crop (headroom rule).
    (_, top, _, bottom), _ = crop_box(CropMode.SMART, 500, 1500, 512, regions=[(0.4, 0.05, 0.6, 0.15)])
    assert top <= 75 and bottom >= 225
    assert (150 - top) / (bottom - top) < 0.5


def test_smart_without_faces_follows_the_gradient_energy() -> None:
    energy = [0.0] * 12 + [1.0] * 4  # all detail in the right quarter
    (left, _, right, _), _ = crop_box(CropMode.SMART, 1600, 400, 512, energy_cols=energy)
    assert right == 1600 and left == 1200
    (left, _, _, _), _ = crop_box(CropMode.CENTER, 1600, 400, 512, energy_cols=energy)
    assert left == 600


def test_bucket_boxes_record_the_cut_for_sdxl_conditioning() -> None:
    box, target = crop_box(CropMode.BUCKET, 1920, 1080, 512)
    assert target == (640, 384)
    assert box[3] - box[1] == 1080 and box[2] - box[0] == 1800


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="image size"):
        crop_box(CropMode.SMART, 0, 100, 512)
