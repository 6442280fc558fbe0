"""The kernel-free frame player: self-contained HTML with one PNG per frame."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import base64
import json
import re

import matplotlib.pyplot as plt
import pytest

from compsparse.viz.player import FramePlayer, frame_player, render_png


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _figures(n):
    for i in range(n):
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.text(0.5, 0.5, str(i))
        yield fig


def test_player_holds_one_png_per_frame_and_needs_no_network():
    player = frame_player(_figures(4), [f"frame {i} <b>" for i in range(4)], label="demo")
    assert len(player) == 4
    html = player.to_html()
    data = json.loads(
        re.search(r'class="cs-player-data">(.*?)</script>', html, re.S)
        .group(1)
        .replace("<\\/", "</")
    )
    assert len(data["frames"]) == 4 and data["captions"][3] == "frame 3 <b>"
    for uri in data["frames"]:
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http" not in html.replace("data:image/png", "")  # no CDN, no icon font
    assert "frame 0 &lt;b&gt;" in html  # captions are escaped in the markup
    assert html.count('data-action="') == 3 and 'type="range"' in html
    assert player._repr_html_() == html
    assert not plt.get_fignums(), "frame_player must close the figures it rendered"


def test_frames_have_one_size_and_the_id_is_stable():
    a = frame_player(_figures(2), ["a", "b"], label="x")
    b = frame_player(_figures(2), ["a", "b"], label="x")
    assert a.element_id == b.element_id and a.to_html() == b.to_html()
    c = frame_player(_figures(2), ["a", "c"], label="x")
    assert c.element_id != a.element_id
    fig, _ = plt.subplots(figsize=(3, 2))
    assert render_png(fig, dpi=50)[16:24] == (150).to_bytes(4, "big") + (100).to_bytes(4, "big")


def test_player_refuses_mismatched_captions():
    with pytest.raises(ValueError, match="one each"):
        FramePlayer([b"x"], ["a", "b"], label="x")
    with pytest.raises(ValueError, match="at least one frame"):
        FramePlayer([], [], label="x")
