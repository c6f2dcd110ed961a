"""Frame differences and the settle wait, on synthetic frames with a fake clock."""

from __future__ import annotations

from PIL import Image, ImageDraw

from screenagent.geometry import Frame, Rect
from screenagent.screen import SettleConfig, changed_fraction, wait_until_settled

W, H = 400, 300
REGION = Rect(left=0, top=0, width=W, height=H)


def img(boxes: int = 0, caret: bool = False) -> Image.Image:
    im = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(im)
    for i in range(boxes):
        d.rectangle([10 + 30 * i, 10, 30 + 30 * i, 60], fill="black")
    if caret:
        d.line([200, 100, 200, 115], fill="black")
    return im


def test_changed_fraction() -> None:
    assert changed_fraction(img(), img()) == 0.0
    # a blinking caret: 16 px of 120000
    assert 0 < changed_fraction(img(), img(caret=True)) < 0.001
    # one 21x51 box: about 0.9% of the frame
    assert 0.008 < changed_fraction(img(), img(boxes=1)) < 0.01
    assert changed_fraction(img(), Image.new("RGB", (10, 10))) == 1.0


def test_noise_below_tolerance_is_not_a_change() -> None:
    a = Image.new("RGB", (W, H), (100, 100, 100))
    b = Image.new("RGB", (W, H), (104, 100, 97))
    assert changed_fraction(a, b) == 0.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class SequenceScreen:
    """Returns the frames it is given, one per capture, then repeats the last; each capture
    costs ``cost`` seconds of the fake clock."""

    def __init__(self, images: list[Image.Image], clock: FakeClock, cost: float = 0.002) -> None:
        self.images, self.clock, self.cost, self.count = images, clock, cost, 0

    def capture(self) -> Frame:
        self.clock.now += self.cost
        image = self.images[min(self.count, len(self.images) - 1)]
        self.count += 1
        return Frame(image=image, region=REGION)


def run_settle(images: list[Image.Image], config: SettleConfig, before: Image.Image | None = None):
    clock = FakeClock()
    screen = SequenceScreen(images, clock)
    before_frame = Frame(image=before, region=REGION) if before is not None else None
    return wait_until_settled(
        screen, before=before_frame, config=config, clock=clock, sleep=clock.sleep
    ), screen


def test_static_screen_settles_after_the_quiet_period() -> None:
    cfg = SettleConfig(min_seconds=0.02, quiet_seconds=0.04, interval=0.01)
    result, _ = run_settle([img()], cfg, before=img())
    assert result.settled and not result.changed and result.first_change is None
    assert 0.04 <= result.seconds < 0.06


def test_waits_while_the_screen_keeps_changing() -> None:
    # frames change for the first 5 captures (an animation), then hold still
    frames = [img(boxes=i) for i in range(6)]
    cfg = SettleConfig(min_seconds=0.02, quiet_seconds=0.04, interval=0.01)
    result, _ = run_settle(frames, cfg, before=img())
    assert result.settled and result.changed
    assert result.last.image is frames[-1]
    # frames[0] equals the frame before the action; the second capture is the first change
    assert result.first_change is not None and 0.01 < result.first_change < 0.02
    assert result.seconds > 0.04 + 5 * 0.01  # the animation plus the quiet period


def test_caret_blink_does_not_keep_the_wait_going() -> None:
    on, off = img(caret=True), img()
    frames = [on if i % 2 == 0 else off for i in range(100)]
    cfg = SettleConfig(min_seconds=0.02, quiet_seconds=0.04, interval=0.01)
    result, _ = run_settle(frames, cfg)
    assert result.settled and result.seconds < 0.1


def test_cap_reached_when_the_screen_never_settles() -> None:
    shapes = [img(boxes=b) for b in range(7)]
    frames = [shapes[i % 7] for i in range(100)]
    cfg = SettleConfig(min_seconds=0.02, quiet_seconds=0.04, cap_seconds=0.5, interval=0.01)
    result, _ = run_settle(frames, cfg)
    assert not result.settled
    assert 0.5 <= result.seconds < 0.55


def test_min_wait_is_respected() -> None:
    cfg = SettleConfig(min_seconds=0.3, quiet_seconds=0.01, interval=0.01)
    result, _ = run_settle([img()], cfg)
    assert result.settled and 0.3 <= result.seconds < 0.33
