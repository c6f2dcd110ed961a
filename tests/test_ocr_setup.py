"""How screenagent sets RapidOCR up (issue 17): ONNX Runtime sessions shaped for a desktop
process, and a broken install named as one clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from screenagent.errors import MissingDependency
from screenagent.ocr import RapidOcrEngine

pytestmark = pytest.mark.ocr
pytest.importorskip("rapidocr", reason="the [ocr] extra is not installed")


def test_sessions_use_the_granted_cores_and_do_not_spin() -> None:
    engine = RapidOcrEngine()
    assert engine.read(Image.new("RGB", (64, 32), "white")) == []
    inner = engine._engine
    for model in (inner.text_det, inner.text_rec):
        opts = model.session.session.get_session_options()
        assert opts.intra_op_num_threads == len(os.sched_getaffinity(0))
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_missing_models_name_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A broken install (no model files): one clear error naming the extra. RapidOCR would try
    to download them; its download is made to fail here (no network is used)."""
    download = pytest.importorskip("rapidocr.utils.download_file")

    def offline(*args: object, **kwargs: object) -> None:
        raise download.DownloadFileException("Failed to download (offline)")

    monkeypatch.setattr(download.DownloadFile, "run", offline)
    engine = RapidOcrEngine(params={"Global.model_root_dir": str(tmp_path)})
    with pytest.raises(MissingDependency, match=r"\[ocr\] extra.*pip install --force-reinstall"):
        engine.read(Image.new("RGB", (64, 32), "white"))
