"""The alveo backend: an HLS top as XRT kernel compute units in an ``.xclbin`` on an Alveo U250.

Needs pynq 3.0.1 (the last release that drives Alveo cards) and XRT sourced before Python
starts. Loading checks, before pynq is touched: the ``.xclbin`` and its design manifest exist,
the model's layer constants match the design's, the sha256 matches. Then pynq must find an XRT
device whose shell is the manifest's platform (``xilinx_u250_gen3x16_xdma_...``), the
``.xclbin`` is loaded, and every compute unit of the variant's top is found in ``ip_dict``.

Each compute unit gets its own parameter, input and logits buffers, allocated in the memory
bank that its arguments are connected to (the ``memory`` of each argument in the xclbin's
connectivity, e.g. ``sp=cs_sparse_sparse_1.params:DDR[0]``), so that several units spread over
the card's four DDR banks. A call is ``cu.start(params=..., input=..., logits=..., n_clips=...,
load_params=...)`` through XRT's scheduler, then a wait with a deadline (pynq's own ``wait()``
has none). Power is the card's 12 V input power from its sensors (PEX + AUX rails) when they
can be read, else the card's rated 225 W, labelled as such.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import re
import time
import warnings

import numpy as np

from ..perfmodel import CHIPS
from . import _pynq
from .driver import Accelerator
from .errors import DesignMismatchError, FpgaTimeoutError
from .manifest import TARGETS, check_model, check_sha256, locate
from .measure import PowerMeter
from .registers import POINTERS, KernelRegisters, decode_control, wait_all

__all__ = ["AlveoAccelerator", "CardPower", "same_platform"]

_INPUT_RAILS = ("12v_pex", "12v_aux", "3v3_pex", "3v3_aux")


class CardPower(PowerMeter):
    """The card's input power: the sum of its PCIe and auxiliary supply rails that report power."""

    def __init__(self, sensors: dict):
        self.rails = {n: sensors[n] for n in _INPUT_RAILS if getattr(sensors.get(n), "power", None)}
        if not self.rails:
            raise ValueError("no input rail with voltage and current sensors")
        self.source = f"card sensors ({' + '.join(sorted(self.rails))} input power)"

    def read(self) -> float:
        return float(sum(r.power.value for r in self.rails.values()))


def _platform_key(name: str) -> str:
    """``xilinx_u250_gen3x16_xdma_shell_4_1`` and ``..._xdma_4_1_202210_1`` -> one key."""
    key = name.lower().replace("shell_", "")
    return re.sub(r"_\d{6}_\d+$", "", key)


def same_platform(device_name: str, platform: str | None) -> bool:
    """Whether a card's shell name and a build platform name denote the same platform."""
    if not platform:
        return "u250" in device_name.lower()
    return _platform_key(device_name) == _platform_key(platform)


class AlveoAccelerator(Accelerator):
    """A design on the Alveo U250 (see the module docstring).

    Args:
        model, variant: as for :func:`compsparse.fpga.open_design`.
        bitstream: the ``.xclbin`` (its ``.design.json`` beside it).
        timeout_s, timeout_per_clip_s: the deadline of a call.
        expected_sha256: the xclbin's sha256 if you know it.
        check_board: refuse a card whose shell is not the design's platform.
        pynq_module: a stand-in for pynq (tests).
    """

    backend = "alveo"

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
        pynq_module=None,
    ):
        super().__init__(model, variant)
        target = TARGETS["alveo"]
        self.board, self.part = target["board"], target["part"]
        self.timeout_s, self.timeout_per_clip_s = timeout_s, timeout_per_clip_s
        self.files = locate(bitstream, "alveo")
        check_model(self.params, self.files.manifest)
        self.sha256 = check_sha256(self.files, expected_sha256)
        pynq = pynq_module or _pynq.import_pynq("alveo")
        self.pynq = pynq
        device = _pynq.one_device(pynq, "alveo")
        self.device_name = str(getattr(device, "name", "?"))
        platform = self.files.manifest.get("platform")
        if check_board and not same_platform(self.device_name, platform):
            raise DesignMismatchError(
                f"the card runs shell {self.device_name}, the xclbin was built for platform "
                f"{platform or target['platform']}: rebuild it with `v++ --platform` for this "
                f"shell, or flash the card with that platform's shell (xbmgmt program)"
            )
        self.overlay = _pynq.load_overlay(pynq, self.files.bitstream, "alveo")
        names = _pynq.find_ips(self.overlay.ip_dict, self.params.top)
        if not names:
            raise DesignMismatchError(
                f"the xclbin has no {self.params.top} compute unit (it has "
                f"{sorted(self.overlay.ip_dict)}): load the xclbin built for the {self.variant} "
                f"variant"
            )
        self.cu_names = names
        self.cus = [_pynq.resolve_ip(self.overlay, n) for n in names]
        descs = [self.overlay.ip_dict[n].get("registers") or {} for n in names]
        self.regs = [
            KernelRegisters.from_description(n, d) for n, d in zip(names, descs, strict=True)
        ]
        self.banks = [{arg: d.get(arg, {}).get("memory") for arg in POINTERS} for d in descs]
        self.n_instances = len(self.cus)
        self._params = []
        for i in range(self.n_instances):
            buf = self._allocate(i, "params", self.params.blob.shape, np.uint8)
            buf[:] = self.params.blob
            buf.sync_to_device()
            self._params.append(buf)
        self._idle = [self._batch_buffers(i, 1) for i in range(self.n_instances)]
        self._load_params()

    # ---------------------------------------------------------------- buffers and calls

    def _allocate(self, i: int, arg: str, shape, dtype):
        """A buffer in the memory bank that compute unit ``i``'s argument ``arg`` uses."""
        tag = self.banks[i][arg]
        target = None
        if tag is not None:
            target = self.overlay.device.get_memory_by_name(tag)
        else:
            warnings.warn(
                f"{self.cu_names[i]}.{arg} names no memory bank in the xclbin; using the card's "
                f"default bank",
                stacklevel=2,
            )
        return self.pynq.allocate(shape=shape, dtype=dtype, target=target)

    def _batch_buffers(self, i: int, n: int):
        in_shape, in_dtype, out_shape, out_dtype = _pynq.word_buffers(
            n, self.params.n_in, self.params.n_out
        )
        buf_in = self._allocate(i, "input", in_shape, in_dtype)
        buf_in[:] = 0
        return buf_in, self._allocate(i, "logits", out_shape, out_dtype)

    def _start(self, i: int, buf_in, buf_out, n_clips: int, load: int):
        return self.cus[i].start(
            params=self._params[i],
            input=buf_in,
            logits=buf_out,
            n_clips=n_clips,
            load_params=load,
        )

    def _wait(self, handles: list, n_clips: int, what: str) -> None:
        timeout = self.timeout_s + self.timeout_per_clip_s * n_clips
        deadline = time.monotonic() + timeout
        polled = []
        for i, h in enumerate(handles):
            if not hasattr(h, "done"):  # software start: poll the control register
                polled.append((self.cus[i].read, self.regs[i]))
                continue
            device = getattr(h, "device", None)
            while not h.done:
                if time.monotonic() > deadline:
                    state = decode_control(
                        int(self.cus[i].read(self.regs[i].ctrl)), self.regs[i].bits
                    )
                    raise FpgaTimeoutError(
                        f"{what} did not finish within {timeout:.3g} s ({self.cu_names[i]}: "
                        f"{state}): the compute unit hangs; reset the card (xbutil reset), "
                        f"reload the xclbin and try one clip, or raise timeout_s if it is slow"
                    )
                handle_events = getattr(device, "_handle_events", None)
                if handle_events is not None:
                    handle_events(10)  # what pynq's wait() does, 10 ms at a time
                else:
                    time.sleep(0.001)
        if polled:
            wait_all(polled, max(0.0, deadline - time.monotonic()), what)

    def _load_params(self) -> None:
        handles = [self._start(i, *self._idle[i], 0, 1) for i in range(self.n_instances)]
        self._wait(handles, 0, f"loading the parameters of {self.cu_names}")

    def _prepare(self, chunks):
        bufs = []
        for i, chunk in enumerate(chunks):
            buf_in, buf_out = self._batch_buffers(i, len(chunk))
            buf_in[:, : chunk.shape[1]] = chunk
            bufs.append((buf_in, buf_out, len(chunk)))
        return bufs

    def _upload(self, prepared):
        for buf_in, _, _ in prepared:
            buf_in.sync_to_device()

    def _execute(self, prepared):
        handles = [self._start(i, b_in, b_out, n, 0) for i, (b_in, b_out, n) in enumerate(prepared)]
        n_max = max(n for _, _, n in prepared)
        names = ", ".join(self.cu_names[: len(prepared)])
        self._wait(handles, n_max, f"{names} on {n_max} clips")

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
            return CardPower(self.overlay.device.sensors)
        except Exception:  # sensors need the xclmgmt driver's sysfs; fall back to the rating
            return None

    def _rated_power(self):
        chip = CHIPS["U250"]
        return chip.rated_power_w, chip.power_kind, chip.power_note

    def describe(self) -> dict:
        d = super().describe()
        manifest = self.files.manifest
        clock = manifest.get("clock_mhz")
        try:
            clocks = self.overlay.device.clocks
            clock = float(next(iter(clocks.values()))["frequency"]) if clocks else clock
        except Exception:  # clocks need a loaded xclbin; keep the manifest's figure
            pass
        xrt = None
        try:
            from pynq.pl_server import xrt_device

            xrt = str(getattr(xrt_device, "_xrt_version", None))
        except Exception:  # not an XRT host
            pass
        d.update(
            bitstream=self.files.bitstream.name,
            bitstream_sha256=self.sha256,
            shell=self.device_name,
            platform=manifest.get("platform"),
            pynq=getattr(self.pynq, "__version__", None),
            xrt=xrt,
            tools=manifest.get("tools"),
            clock_mhz=clock,
            instances_available=self.n_instances,
            ip=self.cu_names,
        )
        return d

    def close(self) -> None:
        for pair in getattr(self, "_idle", []):
            for buf in pair:
                if hasattr(buf, "freebuffer"):
                    buf.freebuffer()
        for buf in getattr(self, "_params", []):
            if hasattr(buf, "freebuffer"):
                buf.freebuffer()
        self._idle, self._params = [], []
