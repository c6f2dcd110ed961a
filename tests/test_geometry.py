"""The one transform between frame pixels and screen points, both ways."""

from __future__ import annotations

import pytest
from PIL import Image

from screenagent.geometry import Frame, Rect, frame_to_screen, screen_to_frame


def frame(width: int, height: int, region: Rect) -> Frame:
    return Frame(image=Image.new("RGB", (width, height)), region=region)


def test_identity_at_scale_one() -> None:
    f = frame(1280, 800, Rect(left=0, top=0, width=1280, height=800))
    assert f.scale == 1.0
    for x, y in [(0, 0), (640, 400), (1279, 799)]:
        assert f.to_screen(x, y) == (x, y)
        assert f.from_screen(x, y) == (x, y)


def test_hidpi_2x_scale_both_ways() -> None:
    # A 2x HiDPI monitor of 1440x900 points captured as 2880x1800 pixels.
    f = frame(2880, 1800, Rect(left=0, top=0, width=1440, height=900))
    assert f.scale == 2.0
    assert f.to_screen(0, 0) == (0, 0)
    assert f.to_screen(1, 1) == (0, 0)  # both pixels of point 0 map to point 0
    assert f.to_screen(2, 3) == (1, 1)
    assert f.to_screen(2879, 1799) == (1439, 899)
    assert f.to_screen(1000, 600) == (500, 300)
    # Every screen point maps to a frame pixel inside it, and back to itself.
    for sx, sy in [(0, 0), (1, 1), (500, 300), (1439, 899)]:
        fx, fy = f.from_screen(sx, sy)
        assert (fx // 2, fy // 2) == (sx, sy)
        assert f.to_screen(fx, fy) == (sx, sy)
    # Frame -> screen -> frame lands within one screen point (2 frame pixels).
    for x, y in [(0, 0), (1, 1), (1001, 601), (2879, 1799)]:
        bx, by = f.from_screen(*f.to_screen(x, y))
        assert abs(bx - x) <= 1 and abs(by - y) <= 1


def test_second_monitor_offset_both_ways() -> None:
    # Monitor 2 sits right of a 1920x1080 primary, 200 px lower.
    region = Rect(left=1920, top=200, width=1280, height=1024)
    f = frame(1280, 1024, region)
    assert f.to_screen(0, 0) == (1920, 200)
    assert f.to_screen(100, 50) == (2020, 250)
    assert f.from_screen(2020, 250) == (100, 50)
    assert f.from_screen(*f.to_screen(1279, 1023)) == (1279, 1023)


def test_hidpi_monitor_with_offset() -> None:
    # A 2x monitor left of the primary: negative desktop coordinates.
    f = frame(3024, 1964, Rect(left=-1512, top=0, width=1512, height=982))
    assert f.to_screen(0, 0) == (-1512, 0)
    assert f.to_screen(3023, 1963) == (-1, 981)
    assert f.from_screen(-1, 981) == (3023, 1963)


def test_functions_match_methods() -> None:
    region = Rect(left=10, top=20, width=100, height=50)
    assert frame_to_screen(5, 5, region=region, scale=1.0) == (15, 25)
    assert screen_to_frame(15, 25, region=region, scale=1.0) == (5, 5)


def test_frame_must_cover_region_at_one_scale() -> None:
    with pytest.raises(ValueError, match="one scale"):
        frame(200, 100, Rect(left=0, top=0, width=100, height=100))


def test_rect_parse_and_errors() -> None:
    assert Rect.parse("10, 20,300,200") == Rect(left=10, top=20, width=300, height=200)
    with pytest.raises(ValueError, match="X,Y,WIDTH,HEIGHT"):
        Rect.parse("10,20,300")
    with pytest.raises(ValueError, match="positive size"):
        Rect(left=0, top=0, width=0, height=5)
    r = Rect(left=0, top=0, width=10, height=10)
    assert r.contains(9, 9) and not r.contains(10, 0)
    assert r.contains_rect(Rect(left=2, top=2, width=8, height=8))
    assert not r.contains_rect(Rect(left=2, top=2, width=9, height=8))
