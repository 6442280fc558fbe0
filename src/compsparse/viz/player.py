"""A frame player that needs no Python kernel: precomputed PNG frames and a little JavaScript.

The book's animations (packing kernels, routing products) are drawn once per state when the book
is built. :func:`frame_player` turns those figures into one self-contained HTML block: the first
frame as an ``<img>`` (so the page shows a figure even without JavaScript), previous / play /
next buttons, a slider and a caption. It loads nothing from the network and uses no icon fonts,
so it works on the published site, offline, and in Jupyter alike.

Book: chapters "Combine" and "Route".
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
from PIL import Image

__all__ = ["FramePlayer", "frame_player", "render_png"]

_BUTTON = (
    "font:inherit;font-size:0.9em;padding:2px 10px;margin-right:6px;border:1px solid #8a8a8a;"
    "border-radius:4px;background:#f4f4f4;color:#222;cursor:pointer"
)

_SCRIPT = """(function () {
  var root = document.getElementById("%(id)s");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var data = JSON.parse(root.querySelector("script.cs-player-data").textContent);
  var img = root.querySelector("img.cs-player-frame");
  var cap = root.querySelector(".cs-player-caption");
  var range = root.querySelector("input.cs-player-range");
  var count = root.querySelector(".cs-player-count");
  var play = root.querySelector("button[data-action=play]");
  var n = data.frames.length, i = 0, timer = null;
  function show(j) {
    i = Math.max(0, Math.min(n - 1, j));
    img.src = data.frames[i];
    img.alt = data.captions[i];
    cap.textContent = data.captions[i];
    range.value = i;
    count.textContent = (i + 1) + " / " + n;
    root.setAttribute("data-frame", i);
  }
  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    play.textContent = "\\u25B6 play";
  }
  root.querySelector("button[data-action=prev]").onclick = function () { stop(); show(i - 1); };
  root.querySelector("button[data-action=next]").onclick = function () { stop(); show(i + 1); };
  range.oninput = function () { stop(); show(parseInt(range.value, 10)); };
  play.onclick = function () {
    if (timer) { stop(); return; }
    if (i === n - 1) show(0);
    play.textContent = "\\u275A\\u275A pause";
    timer = setInterval(function () { if (i >= n - 1) stop(); else show(i + 1); }, %(interval)d);
  };
})();"""


def render_png(fig, dpi: int = 100, colors: int = 128) -> bytes:
    """PNG bytes of a figure at its own size (no tight bbox, so every frame has the same size).

    The image is reduced to a palette of ``colors`` colours (flat-coloured diagrams lose nothing
    visible), which makes the frames embedded in a page about three times smaller.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


class FramePlayer:
    """Precomputed frames with a kernel-free player; displays itself as HTML in Jupyter.

    Attributes:
        frames: list of PNG ``bytes``, one per state.
        captions: list of ``str``, one per frame (shown under the image, and its alt text).
        label: what the player shows, for screen readers.
        interval_ms: time between frames when playing.
    """

    def __init__(
        self,
        frames: Sequence[bytes],
        captions: Sequence[str],
        label: str,
        interval_ms: int = 900,
    ):
        if not frames:
            raise ValueError("a player needs at least one frame")
        if len(captions) != len(frames):
            raise ValueError(f"{len(frames)} frames but {len(captions)} captions: give one each")
        self.frames = list(frames)
        self.captions = [str(c) for c in captions]
        self.label = label
        self.interval_ms = int(interval_ms)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def element_id(self) -> str:
        """A stable id derived from the content, so rebuilding the book gives the same page."""
        h = hashlib.sha1()
        for frame, caption in zip(self.frames, self.captions, strict=True):
            h.update(frame)
            h.update(caption.encode())
        return "cs-player-" + h.hexdigest()[:12]

    def to_html(self) -> str:
        """The self-contained HTML block (markup, frames as data URIs, inline script)."""
        uris = ["data:image/png;base64," + base64.b64encode(f).decode() for f in self.frames]
        data = json.dumps({"frames": uris, "captions": self.captions}).replace("</", "<\\/")
        n, eid, first = len(self.frames), self.element_id, html.escape(self.captions[0])
        buttons = "".join(
            f'<button type="button" data-action="{action}" aria-label="{aria}" '
            f'style="{_BUTTON}">{text}</button>'
            for action, aria, text in (
                ("prev", "previous frame", "\u25c0 prev"),
                ("play", "play", "\u25b6 play"),
                ("next", "next frame", "next \u25b6"),
            )
        )
        return (
            f'<div class="cs-player" id="{eid}" data-frame="0" data-frames="{n}" '
            f'role="group" aria-label="{html.escape(self.label)}" style="margin:0.5em 0 1em 0">'
            f'<img class="cs-player-frame" src="{uris[0]}" alt="{first}" '
            f'style="max-width:100%;height:auto;display:block">'
            f'<div class="cs-player-caption" aria-live="polite" '
            f'style="font-size:0.9em;min-height:1.4em;margin:0.3em 0">{first}</div>'
            f'<div class="cs-player-controls" style="display:flex;align-items:center;'
            f'flex-wrap:wrap;gap:4px">{buttons}'
            f'<input class="cs-player-range" type="range" min="0" max="{n - 1}" value="0" '
            f'aria-label="frame" style="flex:1;min-width:120px;margin:0 8px">'
            f'<span class="cs-player-count" style="font-size:0.9em;'
            f'font-variant-numeric:tabular-nums">1 / {n}</span></div>'
            f'<script type="application/json" class="cs-player-data">{data}</script>'
            f"<script>{_SCRIPT % {'id': eid, 'interval': self.interval_ms}}</script>"
            f"</div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()


def frame_player(
    figures: Iterable,
    captions: Sequence[str],
    label: str,
    dpi: int = 100,
    interval_ms: int = 900,
) -> FramePlayer:
    """Render figures to PNG frames (closing each) and wrap them in a :class:`FramePlayer`.

    Args:
        figures: matplotlib Figures of one size, one per state (a generator is fine: each is
            rendered and closed before the next is drawn).
        captions: one line of text per figure.
        label: what the player shows (for screen readers).
        dpi: resolution of the frames.
        interval_ms: time between frames when playing.
    """
    frames = []
    for fig in figures:
        frames.append(render_png(fig, dpi=dpi))
        plt.close(fig)
    return FramePlayer(frames, captions, label=label, interval_ms=interval_ms)
