"""The zynq backend: an HLS top in a bitstream on the Ultra96-V2 (ZU3EG), driven with pynq 3.0.1.

Loading checks, before pynq is touched: the ``.bit``, its ``.hwh`` and the design manifest exist
(:func:`compsparse.fpga.manifest.locate`); the model's layer constants match the ones the design
was built for; the bitstream's sha256 matches the manifest's; the ``.hwh`` names the ZU3EG part.
Then pynq must find an embedded device (and the ``BOARD`` the image sets must be an Ultra96),
``Overlay(.bit)`` loads the design, and every instance of the variant's top is found in
``ip_dict`` by its VLNV. Register offsets come from each IP's ``registers`` description
(:mod:`compsparse.fpga.registers`), never from constants.

A call: the parameter blob sits in one ``pynq.allocate`` buffer shared by all instances, and is
copied into each instance's on-chip memory once (``load_params = 1``, ``n_clips = 0``); inputs
and logits get a buffer per instance. ``sync_to_device`` (cache flush) before starting,
``sync_from_device`` (invalidate) after; start writes the buffers' physical addresses and
``AP_START``; waiting polls the control registers with a deadline. Power is the sum of the
board's PYNQ rails (``pynq.get_rails()``) when they can be read, else the paper's system power
for the ZU3EG board, labelled as such.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import os

import numpy as np

from ..perfmodel import CHIPS
from . import _pynq
from .driver import Accelerator
from .errors import DesignMismatchError
from .manifest import TARGETS, check_model, check_part, check_sha256, locate
from .measure import PowerMeter
from .registers import KernelRegisters, start, wait_all

__all__ = ["RailsPower", "ZynqAccelerator"]


class RailsPower(PowerMeter):
    """The sum of every PYNQ rail that has a power sensor (watts)."""

    def __init__(self, rails: dict):
        self.rails = {name: r for name, r in rails.items() if getattr(r, "power", None)}
        if not self.rails:
            raise ValueError("no rail with a power sensor")
        self.source = f"PYNQ rails (sum of {len(self.rails)}: {', '.join(sorted(self.rails))})"

    def read(self) -> float:
        return float(sum(r.power.value for r in self.rails.values()))


class ZynqAccelerator(Accelerator):
    """A design on the Ultra96-V2 (see the module docstring).

    Args:
        model, variant: as for :func:`compsparse.fpga.open_design`.
        bitstream: the ``.bit`` (its ``.hwh`` and ``.design.json`` beside it).
        timeout_s: seconds a call may take beyond ``timeout_per_clip_s`` per clip.
        expected_sha256: the bitstream's sha256 if you know it (else the manifest's is used).
        check_board: refuse an image whose ``BOARD`` is not an Ultra96.
        clock_mhz: set the PL clock (``pynq.ps.Clocks.fclk0_mhz``) before running.
        download: program the bitstream (``False`` if it is already loaded).
        pynq_module: a stand-in for pynq (tests).
    """

    backend = "zynq"

    def __init__(
        self,
        model,
        variant=None,
        *,
        bitstream=None,
        timeout_s: float = 10.0,
        timeout_per_clip_s: float = 0.05,
        expected_sha256: str | None = None,
        check_board: bool = True,
        clock_mhz: float | None = None,
        download: bool = True,
        pynq_module=None,
    ):
        super().__init__(model, variant)
        target = TARGETS["zynq"]
        self.board, self.part = target["board"], target["part"]
        self.timeout_s, self.timeout_per_clip_s = timeout_s, timeout_per_clip_s
        # everything that needs no pynq first: files, shapes, checksum, part
        self.files = locate(bitstream, "zynq")
        check_model(self.params, self.files.manifest)
        self.sha256 = check_sha256(self.files, expected_sha256)
        self.part = check_part(self.files) or self.part
        # then the board
        pynq = pynq_module or _pynq.import_pynq("zynq")
        self.pynq = pynq
        self.device = _pynq.one_device(pynq, "zynq")
        board = os.environ.get("BOARD", "")
        if check_board and board and target["keyword"] not in board.lower():
            raise DesignMismatchError(
                f"this PYNQ image is for the {board} board; the design was built for the "
                f"{target['board']} ({target['part']}). Run it there, or rebuild the design "
                f"for this board's part (pass check_board=False only if the part is the same)"
            )
        self.image_board = board or None
        self.overlay = _pynq.load_overlay(pynq, self.files.bitstream, "zynq", download=download)
        names = _pynq.find_ips(self.overlay.ip_dict, self.params.top)
        if not names:
            tops = sorted(
                {
                    str(d.get("type", "")).split(":")[2]
                    for d in self.overlay.ip_dict.values()
                    if str(d.get("type", "")).count(":") == 3
                }
            )
            raise DesignMismatchError(
                f"the overlay has no {self.params.top} IP (its HLS/IP cores: {tops}): load the "
                f"bitstream built for the {self.variant} variant"
            )
        self.ip_names = names
        self.ips = [_pynq.resolve_ip(self.overlay, n) for n in names]
        self.regs = [
            KernelRegisters.from_description(n, self.overlay.ip_dict[n].get("registers"))
            for n in names
        ]
        self.n_instances = len(self.ips)
        if clock_mhz is not None:
            pynq.ps.Clocks.fclk0_mhz = clock_mhz
        self._params_buf = self._allocate(self.params.blob.shape, np.uint8)
        self._params_buf[:] = self.params.blob
        self._params_buf.sync_to_device()
        self._idle = [self._batch_buffers(1) for _ in self.ips]
        self._load_params()

    # ---------------------------------------------------------------- buffers and calls

    def _allocate(self, shape, dtype):
        return self.pynq.allocate(shape=shape, dtype=dtype)

    def _batch_buffers(self, n: int):
        in_shape, in_dtype, out_shape, out_dtype = _pynq.word_buffers(
            n, self.params.n_in, self.params.n_out
        )
        buf_in = self._allocate(in_shape, in_dtype)
        buf_in[:] = 0
        return buf_in, self._allocate(out_shape, out_dtype)

    def _start(self, i: int, buf_in, buf_out, n_clips: int, load: int) -> None:
        values = {
            "params": self._params_buf.physical_address,
            "input": buf_in.physical_address,
            "logits": buf_out.physical_address,
            "n_clips": n_clips,
            "load_params": load,
        }
        start(self.ips[i].write, self.regs[i], values)

    def _wait(self, started: list[int], n_clips: int, what: str) -> None:
        timeout = self.timeout_s + self.timeout_per_clip_s * n_clips
        wait_all([(self.ips[i].read, self.regs[i]) for i in started], timeout, what)

    def _load_params(self) -> None:
        """Copy the parameter blob into every instance's on-chip memories."""
        for i in range(self.n_instances):
            buf_in, buf_out = self._idle[i]
            self._start(i, buf_in, buf_out, 0, 1)
        self._wait(list(range(self.n_instances)), 0, f"loading the parameters of {self.ip_names}")

    def _prepare(self, chunks):
        bufs = []
        for chunk in chunks:
            buf_in, buf_out = self._batch_buffers(len(chunk))
            buf_in[:, : chunk.shape[1]] = chunk
            bufs.append((buf_in, buf_out, len(chunk)))
        return bufs

    def _upload(self, prepared):
        for buf_in, _, _ in prepared:
            buf_in.sync_to_device()

    def _execute(self, prepared):
        for i, (buf_in, buf_out, n) in enumerate(prepared):
            self._start(i, buf_in, buf_out, n, 0)
        n_max = max(n for _, _, n in prepared)
        names = ", ".join(self.ip_names[: len(prepared)])
        self._wait(list(range(len(prepared))), n_max, f"{names} on {n_max} clips")

    def _download(self, prepared):
        out = []
        for _, buf_out, _ in prepared:
            buf_out.sync_from_device()
            out.append(np.array(buf_out[:, : self.params.n_out], dtype=np.int32))
        return out

    def _release(self, prepared):
        for buf_in, buf_out, _ in prepared:
            for buf in (buf_in, buf_out):
                if hasattr(buf, "freebuffer"):
                    buf.freebuffer()

    # ---------------------------------------------------------------- power and description

    def _power_meter(self):
        try:
            return RailsPower(self.pynq.get_rails())
        except Exception:  # no libsensors, no PMBus access: fall back to the rated figure
            return None

    def _rated_power(self):
        chip = CHIPS["ZU3EG"]
        return chip.rated_power_w, chip.power_kind, chip.power_note

    def describe(self) -> dict:
        d = super().describe()
        manifest = self.files.manifest
        clock = None
        try:
            clock = float(self.pynq.ps.Clocks.fclk0_mhz)
        except Exception:  # the clock driver is optional on some images
            clock = manifest.get("clock_mhz")
        d.update(
            bitstream=self.files.bitstream.name,
            bitstream_sha256=self.sha256,
            image_board=self.image_board,
            pynq=getattr(self.pynq, "__version__", None),
            tools=manifest.get("tools"),
            clock_mhz=clock,
            instances_available=self.n_instances,
            ip=self.ip_names,
        )
        return d

    def close(self) -> None:
        for pair in getattr(self, "_idle", []):
            for buf in pair:
                if hasattr(buf, "freebuffer"):
                    buf.freebuffer()
        buf = getattr(self, "_params_buf", None)
        if buf is not None and hasattr(buf, "freebuffer"):
            buf.freebuffer()
        self._idle, self._params_buf = [], None
