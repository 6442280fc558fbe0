"""The zynq and alveo backends: file and shape checks, the real pynq up to "no device", and the
register protocol against stand-in overlays whose IPs compute with the C simulation.

The stand-ins decode the registers the driver writes exactly as the hardware would (buffer
addresses at the offsets of the register description, ``AP_START``, ``ap_ctrl_hs`` status), run
the HLS top on the buffers those addresses point to, and report done. So these tests prove the
programming sequence, the buffer layouts (64-bit words) and the timeout logic; they prove
nothing about a bitstream.
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest

from compsparse.fpga import _pynq, csim, open_design
from compsparse.fpga.alveo import AlveoAccelerator, same_platform
from compsparse.fpga.errors import (
    DesignFilesError,
    DesignMismatchError,
    FpgaTimeoutError,
    NoDeviceError,
)
from compsparse.fpga.manifest import (
    hwh_system_info,
    locate,
    make_manifest,
    sha256_file,
    write_manifest,
)
from compsparse.fpga.records import make_record, validate
from compsparse.fpga.registers import KernelRegisters, start, wait_all
from compsparse.fpga.zynq import ZynqAccelerator
from compsparse.hls_models import random_model
from compsparse.hls_models import test_inputs as clips_for
from compsparse.hls_params import hls_params

CAL = np.linspace(-80.0, 0.0, 2 * 32 * 32, dtype=np.float32).reshape(2, 32, 32)
VARIANT = "sparse-sparse"
TOP = "cs_sparse_sparse"


@pytest.fixture(scope="module")
def model():
    return random_model(VARIANT, seed=5, calibration=CAL)


@pytest.fixture(scope="module")
def design(model):
    return csim.CsimDesign(model, VARIANT)


def _hwh(device="xczu3eg"):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<EDKSYSTEM>\n'
        f'  <SYSTEMINFO ARCH="zynquplus" DEVICE="{device}" PACKAGE="sbva484" SPEEDGRADE="-1"/>\n'
        "  <MODULES/>\n</EDKSYSTEM>\n"
    )


def _files(tmp_path, model, backend="zynq", variant=VARIANT, device="xczu3eg", manifest_model=None):
    params = hls_params(manifest_model or model, variant)
    suffix = ".bit" if backend == "zynq" else ".xclbin"
    bit = tmp_path / f"{params.top}{suffix}"
    bit.write_bytes(os.urandom(512))
    if backend == "zynq":
        bit.with_suffix(".hwh").write_text(_hwh(device))
    write_manifest(make_manifest(params, bit, backend, clock_mhz=200.0), bit)
    return bit


# ------------------------------------------------------------------------ stand-ins for pynq

CTRL_FIELDS = {
    "AP_START": {"bit_offset": 0, "bit_width": 1},
    "AP_DONE": {"bit_offset": 1, "bit_width": 1},
    "AP_IDLE": {"bit_offset": 2, "bit_width": 1},
    "AP_READY": {"bit_offset": 3, "bit_width": 1},
}


def zynq_registers(base=0x10, split=True):
    """A register description in pynq's ip_dict form; offsets start at ``base`` so that a test
    can move them and see the driver follow."""
    regs = {"CTRL": {"address_offset": 0, "size": 32, "fields": CTRL_FIELDS}}
    off = base
    for arg in ("params", "input", "logits"):
        if split:
            regs[f"{arg}_1"] = {"address_offset": off, "size": 32}
            regs[f"{arg}_2"] = {"address_offset": off + 4, "size": 32}
        else:
            regs[arg] = {"address_offset": off, "size": 64}
        off += 0xC
    for arg in ("n_clips", "load_params"):
        regs[arg] = {"address_offset": off, "size": 32}
        off += 8
    return regs


class FakeBuffer(np.ndarray):
    def __array_finalize__(self, obj):
        for k, v in (
            ("device_address", None),
            ("to_device", 0),
            ("from_device", 0),
            ("freed", False),
            ("bank", None),
        ):
            setattr(self, k, getattr(obj, k, v))

    @property
    def physical_address(self):
        return self.device_address

    def sync_to_device(self):
        self.to_device += 1

    def sync_from_device(self):
        self.from_device += 1

    def freebuffer(self):
        self.freed = True


class FakeMemory:
    def __init__(self):
        self.next = 0x1_2345_0000  # above 4 GiB: the high address word matters
        self.buffers = {}

    def allocate(self, shape, dtype, target=None):
        buf = np.zeros(shape, dtype).view(FakeBuffer)
        buf.device_address = self.next
        buf.bank = getattr(target, "tag", None)
        self.next += -(-buf.nbytes // 4096) * 4096 + 4096
        self.buffers[buf.device_address] = buf
        return buf


def run_top(design, memory, params, inp, out, n, load):
    """What the IP does: read the m_axi buffers, run the top, write the logits."""
    if load:
        assert params.to_device, "the parameter buffer was not flushed before the start"
    if n:
        assert inp.to_device, "the input buffer was not flushed before the start"
    n_in, n_out = design.params.n_in, design.params.n_out
    xq = np.ascontiguousarray(inp[:n, :n_in]) if n else np.zeros((1, n_in), np.int8)
    res = np.zeros((max(n, 1), n_out), np.int32)
    blob = np.ascontiguousarray(params)
    rc = design._lib.cs_run(blob.ctypes.data, blob.size, xq.ctypes.data, n, res.ctypes.data, load)
    csim._loaded.pop(str(design.library), None)  # this library now holds our weights
    assert rc == 0
    out[:n, :n_out] = res[:n]


class FakeHlsIP:
    """An HLS IP behind an AXI-Lite register file, per its register description."""

    def __init__(self, desc, memory, design, mode="run"):
        self.desc, self.memory, self.design, self.mode = desc, memory, design, mode
        self.regs, self.writes, self.state, self.runs = {}, [], "idle", 0
        self.ctrl = desc["CTRL"]["address_offset"]

    def _arg(self, name):
        d = self.desc
        if name in d:
            off = d[name]["address_offset"]
            lo = self.regs.get(off, 0)
            return lo | (self.regs.get(off + 4, 0) << 32) if d[name]["size"] == 64 else lo
        lo = self.regs.get(d[f"{name}_1"]["address_offset"], 0)
        return lo | (self.regs.get(d[f"{name}_2"]["address_offset"], 0) << 32)

    def write(self, offset, value):
        assert 0 <= value < 2**32, "MMIO writes are 32-bit"
        self.writes.append((offset, value))
        self.regs[offset] = value
        if offset == self.ctrl and value & 1:
            load, n = self._arg("load_params"), self._arg("n_clips")
            if self.mode == "stuck" or (self.mode == "hang_clips" and n):
                self.state = "pending" if self.mode == "stuck" else "running"
                return
            buf = self.memory.buffers
            run_top(
                self.design,
                self.memory,
                buf[self._arg("params")],
                buf[self._arg("input")],
                buf[self._arg("logits")],
                n,
                load,
            )
            self.runs += 1
            self.state = "done"

    def read(self, offset):
        assert offset == self.ctrl
        if self.state == "pending":
            return 0x1  # ap_start, never taken
        if self.state == "running":
            return 0x0
        if self.state == "done":
            self.state = "idle"
            return 0x6  # ap_done (clear on read) | ap_idle
        return 0x4


class FakeOverlay:
    def __init__(self, ips: dict, device=None):
        self.ip_dict, self.device = {}, device
        for name, (vlnv, desc, ip) in ips.items():
            self.ip_dict[name] = {"type": vlnv, "registers": desc, "phys_addr": 0xA000_0000}
            setattr(self, name, ip)


class Rail:
    def __init__(self, watts):
        self.power = types.SimpleNamespace(value=watts)


class EmbeddedDevice:
    name = "pynq-embedded"


def fake_pynq(overlay_factory, device=None, rails=None):
    memory = FakeMemory()

    def allocate(shape, dtype="u4", target=None):
        return memory.allocate(shape, dtype, target)

    def get_rails():
        if rails is None:
            raise RuntimeError("libsensors not available")
        return rails

    mod = types.SimpleNamespace(
        __version__="3.0.1",
        Device=types.SimpleNamespace(devices=[device or EmbeddedDevice()]),
        allocate=allocate,
        ps=types.SimpleNamespace(Clocks=types.SimpleNamespace(fclk0_mhz=187.5)),
        get_rails=get_rails,
        memory=memory,
    )
    mod.Overlay = lambda path, **kw: overlay_factory(mod, path, **kw)
    return mod


def zynq_factory(design, n_ips=1, mode="run", registers=None, vlnv=f"xilinx.com:hls:{TOP}:1.0"):
    def make(mod, path, download=True):
        assert str(path).endswith(".bit")
        ips = {}
        for i in range(n_ips):
            desc = registers or zynq_registers()
            ip = FakeHlsIP(desc, mod.memory, design, mode)
            ips[f"{TOP}_{i}"] = (vlnv, desc, ip)
        ips["axi_intc_0"] = ("xilinx.com:ip:axi_intc:4.1", {}, object())
        mod.overlay = FakeOverlay(ips)
        return mod.overlay

    return make


# ------------------------------------------------------------------------ files and shapes


def test_no_bitstream_says_how_to_build_one(model, monkeypatch):
    monkeypatch.delenv("COMPSPARSE_BITSTREAM", raising=False)
    with pytest.raises(DesignFilesError, match=r"hls/boards/ultra96v2.*2022.1|2022.1.*ultra96v2"):
        open_design(model, backend="zynq")
    with pytest.raises(DesignFilesError, match=r"hls/boards/u250"):
        open_design(model, backend="alveo")


def test_missing_files_are_named(tmp_path, model):
    with pytest.raises(DesignFilesError, match=r"does not exist"):
        open_design(model, backend="zynq", bitstream=tmp_path / "cs_sparse_sparse.bit")
    bit = _files(tmp_path, model)
    bit.with_suffix(".hwh").unlink()
    with pytest.raises(DesignFilesError, match=r"hwh is missing.*hardware handoff"):
        open_design(model, backend="zynq", bitstream=bit)
    bit = _files(tmp_path, model)
    bit.with_name(bit.stem + ".design.json").unlink()
    with pytest.raises(DesignFilesError, match=r"design.json is missing.*fpga manifest"):
        open_design(model, backend="zynq", bitstream=bit)
    with pytest.raises(DesignFilesError, match=r"backend='alveo'"):
        open_design(model, backend="zynq", bitstream=tmp_path / "x.xclbin")
    with pytest.raises(DesignFilesError, match=r"does not exist"):
        open_design(model, backend="alveo", bitstream=tmp_path / "cs_sparse_sparse.xclbin")


def test_base_name_finds_the_files(tmp_path, model):
    bit = _files(tmp_path, model)
    files = locate(tmp_path / "cs_sparse_sparse", "zynq")
    assert files.bitstream == bit and files.hwh == bit.with_suffix(".hwh")
    assert files.manifest["variant"] == VARIANT
    assert hwh_system_info(files.hwh)["DEVICE"] == "xczu3eg"


def test_a_model_of_another_shape_is_refused(tmp_path, model):
    other = random_model(VARIANT, seed=5, calibration=CAL, k=(5, 7, 150))
    bit = _files(tmp_path, model, manifest_model=other)
    with pytest.raises(DesignMismatchError, match=r"conv1: .*K = 5 \(k-WTA winners\).*K = 7"):
        open_design(model, backend="zynq", bitstream=bit)


def test_a_model_for_another_variant_is_refused(tmp_path, model):
    sd = random_model("sparse-dense", seed=5, calibration=CAL)
    bit = _files(tmp_path, sd, variant="sparse-dense")
    bit = bit.rename(tmp_path / "cs_sparse_sparse.bit")
    (tmp_path / "cs_sparse_dense.hwh").rename(tmp_path / "cs_sparse_sparse.hwh")
    (tmp_path / "cs_sparse_dense.design.json").rename(tmp_path / "cs_sparse_sparse.design.json")
    with pytest.raises(DesignMismatchError, match=r"'sparse-dense'.*'sparse-sparse'"):
        open_design(model, backend="zynq", bitstream=bit)


def test_the_bitstream_checksum_is_checked(tmp_path, model):
    bit = _files(tmp_path, model)
    bit.write_bytes(b"rebuilt" * 10)
    with pytest.raises(DesignMismatchError, match=r"sha256.*rebuilt, replaced or corrupted"):
        open_design(model, backend="zynq", bitstream=bit)
    bit = _files(tmp_path, model)
    with pytest.raises(DesignMismatchError, match=r"expected value"):
        open_design(model, backend="zynq", bitstream=bit, expected_sha256="0" * 64)


def test_a_bitstream_for_another_part_is_refused(tmp_path, model):
    bit = _files(tmp_path, model, device="xc7z020")
    with pytest.raises(DesignMismatchError, match=r"xc7z020.*another part"):
        open_design(model, backend="zynq", bitstream=bit)


# ------------------------------------------------------------------------ the real pynq


@pytest.fixture(scope="module")
def real_pynq():
    pytest.importorskip("pynq", reason="pynq is not installed in this environment")
    return _pynq.import_pynq("zynq")


def test_real_pynq_imports_and_finds_no_device(real_pynq):
    assert real_pynq.__version__ == _pynq.PYNQ_VERSION
    with pytest.raises(NoDeviceError, match=r"no FPGA.*Ultra96-V2.*backend='csim'"):
        _pynq.one_device(real_pynq, "zynq")
    with pytest.raises(NoDeviceError, match=r"xbutil examine"):
        _pynq.one_device(real_pynq, "alveo")


def test_real_pynq_overlay_reports_no_devices_found(real_pynq, tmp_path, model):
    bit = _files(tmp_path, model)
    with pytest.raises(NoDeviceError, match=r"No Devices Found"):
        _pynq.load_overlay(real_pynq, bit, "zynq")


def test_real_pynq_zynq_and_alveo_stop_at_no_device(real_pynq, tmp_path, model):
    bit = _files(tmp_path, model)
    with pytest.raises(NoDeviceError, match=r"Ultra96-V2"):
        open_design(model, backend="zynq", bitstream=bit)
    xclbin = _files(tmp_path, model, backend="alveo")
    with pytest.raises(NoDeviceError, match=r"XRT"):
        open_design(model, backend="alveo", bitstream=xclbin)


def test_without_pynq_the_error_says_how_to_get_it(tmp_path, model, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynq", None)  # import pynq -> ImportError
    bit = _files(tmp_path, model)
    with pytest.raises(NoDeviceError, match=r"pynq is not installed.*compsparse\[fpga\]"):
        open_design(model, backend="zynq", bitstream=bit)


# ------------------------------------------------------------------------ register protocol


def test_register_offsets_come_from_the_description():
    for split in (True, False):
        regs = KernelRegisters.from_description("ip", zynq_registers(base=0x40, split=split))
        writes = regs.writes(
            {
                "params": 0x1_0000_1000,
                "input": 0x2000,
                "logits": 0x3000,
                "n_clips": 5,
                "load_params": 0,
            }
        )
        assert writes[:2] == [(0x40, 0x1000), (0x44, 0x1)]
        assert (0x4C, 0x2000) in writes and (0x58, 0x3000) in writes
        assert writes[-2:] == [(0x64, 5), (0x6C, 0)]
    with pytest.raises(DesignMismatchError, match=r"'n_clips'.*rebuild"):
        desc = zynq_registers()
        del desc["n_clips"]
        KernelRegisters.from_description("ip", desc)
    with pytest.raises(DesignMismatchError, match=r"control register"):
        desc = zynq_registers()
        del desc["CTRL"]
        KernelRegisters.from_description("ip", desc)
    with pytest.raises(DesignMismatchError, match=r"64"):
        desc = zynq_registers(split=False)
        desc["params"]["size"] = 32
        KernelRegisters.from_description("ip", desc)


def test_start_writes_arguments_then_ap_start_and_wait_sees_done():
    regs = KernelRegisters.from_description("ip", zynq_registers())
    log = []
    start(
        lambda o, v: log.append((o, v)),
        regs,
        dict(params=8, input=16, logits=24, n_clips=1, load_params=1),
    )
    assert log[-1] == (0, 1) and len(log) == 3 * 2 + 2 + 1
    status = iter([0x0, 0x0, 0x6])
    wait_all([(lambda off: next(status), regs)], timeout_s=5, what="1 clip")


def test_wait_times_out_with_the_flags_and_a_fix():
    regs = KernelRegisters.from_description("ip", zynq_registers())
    t = iter(np.arange(0, 100, 1.0))
    with pytest.raises(FpgaTimeoutError, match=r"within 3 s \(ip: ap_start\).*never taken"):
        wait_all([(lambda off: 0x1, regs)], 3, "2 clips", clock=lambda: float(next(t)))
    t = iter(np.arange(0, 100, 1.0))
    with pytest.raises(FpgaTimeoutError, match=r"started but never finished.*raise timeout_s"):
        wait_all([(lambda off: 0x0, regs)], 3, "2 clips", clock=lambda: float(next(t)))


# ------------------------------------------------------------------------ zynq, end to end


def _zynq(tmp_path, model, design, monkeypatch, rails=None, **factory):
    monkeypatch.delenv("BOARD", raising=False)
    pynq = fake_pynq(zynq_factory(design, **factory), rails=rails)
    bit = _files(tmp_path, model)
    return pynq, ZynqAccelerator(model, VARIANT, bitstream=bit, pynq_module=pynq, timeout_s=0.3)


def test_zynq_program_run_and_check(tmp_path, model, design, monkeypatch):
    pynq, acc = _zynq(tmp_path, model, design, monkeypatch)
    ip = pynq.overlay.ip_dict[f"{TOP}_0"]
    fake = getattr(pynq.overlay, f"{TOP}_0")
    assert acc.n_instances == 1 and fake.runs == 1  # the parameter load at open
    assert fake.writes[-1] == (0, 1) and fake._arg("load_params") == 1
    assert fake._arg("params") == acc._params_buf.physical_address > 2**32
    assert ip["registers"]["params_2"]["address_offset"] in dict(fake.writes)
    xq, _ = clips_for(model, 3)
    np.testing.assert_array_equal(acc.infer(xq, quantized=True), model.logits(xq, quantized=True))
    assert fake._arg("load_params") == 0 and fake._arg("n_clips") == 3
    assert acc.check(xq, quantized=True).bit_exact
    d = acc.describe()
    assert d["bitstream_sha256"] == sha256_file(acc.files.bitstream) and d["clock_mhz"] == 187.5
    assert d["pynq"] == "3.0.1" and d["tools"]["vivado"] == "2022.1"
    acc.close()
    assert acc._params_buf is None


def test_zynq_offsets_follow_the_handoff(tmp_path, model, design, monkeypatch):
    pynq, acc = _zynq(
        tmp_path, model, design, monkeypatch, registers=zynq_registers(base=0x100, split=False)
    )
    xq, _ = clips_for(model, 2)
    np.testing.assert_array_equal(acc.infer(xq, quantized=True), model.logits(xq, quantized=True))
    offsets = {o for o, _ in getattr(pynq.overlay, f"{TOP}_0").writes}
    assert offsets == {0, 0x100, 0x104, 0x10C, 0x110, 0x118, 0x11C, 0x124, 0x12C}


def test_zynq_full_chip_throughput_with_measured_power(tmp_path, model, design, monkeypatch):
    rails = {"VCCINT": Rail(2.0), "VCC1V2": Rail(0.5), "temp": types.SimpleNamespace(power=None)}
    pynq, acc = _zynq(tmp_path, model, design, monkeypatch, rails=rails, n_ips=2)
    assert acc.n_instances == 2
    result = acc.throughput(n_words=4, n_instances=2, repeats=2, warmup=0, check_words=2)
    assert result.n_instances == 2 and result.checked_words == 4 and result.mismatches == 0
    assert result.power.kind == "measured" and result.power.watts == pytest.approx(2.5)
    assert "VCCINT" in result.power.source
    ips = [getattr(pynq.overlay, f"{TOP}_{i}") for i in range(2)]
    assert all(ip.runs >= 1 + 2 * 2 for ip in ips)  # load + timed + round trips
    rec = make_record(acc.describe(), result)
    validate(rec)
    assert rec["backend"] == "zynq" and rec["instances"] == 2


def test_zynq_power_falls_back_to_the_rated_figure(tmp_path, model, design, monkeypatch):
    _, acc = _zynq(tmp_path, model, design, monkeypatch, rails=None)
    result = acc.throughput(n_words=2, repeats=1, warmup=0)
    assert result.power.kind == "assumed" and result.power.watts == 24.0
    assert "paper's system power" in result.power.source


def test_zynq_stuck_ip_times_out_at_load(tmp_path, model, design, monkeypatch):
    with pytest.raises(FpgaTimeoutError, match=r"loading the parameters.*never taken"):
        _zynq(tmp_path, model, design, monkeypatch, mode="stuck")


def test_zynq_hanging_run_times_out(tmp_path, model, design, monkeypatch):
    _, acc = _zynq(tmp_path, model, design, monkeypatch, mode="hang_clips")
    xq, _ = clips_for(model, 1)
    with pytest.raises(FpgaTimeoutError, match=r"on 1 clips.*started but never finished"):
        acc.infer(xq, quantized=True)


def test_zynq_overlay_without_the_top(tmp_path, model, design, monkeypatch):
    with pytest.raises(DesignMismatchError, match=r"no cs_sparse_sparse IP.*cs_dense"):
        _zynq(tmp_path, model, design, monkeypatch, vlnv="xilinx.com:hls:cs_dense:1.0")


def test_zynq_refuses_another_board(tmp_path, model, design, monkeypatch):
    pynq = fake_pynq(zynq_factory(design))
    bit = _files(tmp_path, model)
    monkeypatch.setenv("BOARD", "Pynq-Z2")
    with pytest.raises(DesignMismatchError, match=r"Pynq-Z2.*Ultra96-V2"):
        ZynqAccelerator(model, VARIANT, bitstream=bit, pynq_module=pynq)
    acc = ZynqAccelerator(model, VARIANT, bitstream=bit, pynq_module=pynq, check_board=False)
    assert acc.describe()["image_board"] == "Pynq-Z2"


def test_zynq_refuses_an_alveo_device(tmp_path, model, design, monkeypatch):
    class XrtDevice:
        name = "xilinx_u250_gen3x16_xdma_shell_4_1"

    pynq = fake_pynq(zynq_factory(design), device=XrtDevice())
    with pytest.raises(DesignMismatchError, match=r"backend='alveo'"):
        ZynqAccelerator(model, VARIANT, bitstream=_files(tmp_path, model), pynq_module=pynq)


# ------------------------------------------------------------------------ alveo, end to end


class Bank:
    def __init__(self, tag):
        self.tag = tag


class XrtDevice:
    def __init__(self, name="xilinx_u250_gen3x16_xdma_shell_4_1", sensors=None):
        self.name, self._sensors, self.events = name, sensors, 0
        self.clocks = {"clock0": {"frequency": 300.0}}

    def get_memory_by_name(self, tag):
        return Bank(tag)

    @property
    def sensors(self):
        if self._sensors is None:
            raise RuntimeError("no xclmgmt sysfs")
        return self._sensors

    def _handle_events(self, ms):
        self.events += 1


class Handle:
    def __init__(self, done, device):
        self.done, self.device = done, device


class FakeCU:
    def __init__(self, design, device, mode):
        self.design, self.device, self.mode, self.calls = design, device, mode, []

    def start(self, **kw):
        assert sorted(kw) == ["input", "load_params", "logits", "n_clips", "params"]
        self.calls.append(kw)
        if self.mode == "hang_clips" and kw["n_clips"]:
            return Handle(False, self.device)
        run_top(
            self.design,
            None,
            kw["params"],
            kw["input"],
            kw["logits"],
            kw["n_clips"],
            kw["load_params"],
        )
        return Handle(True, self.device)

    def read(self, offset):
        return 0x0


def alveo_registers(banks=("DDR[0]", "DDR[1]", "DDR[1]")):
    regs = {"CTRL": {"address_offset": 0, "size": 4, "fields": CTRL_FIELDS}}
    for i, (arg, bank) in enumerate(zip(("params", "input", "logits"), banks, strict=True)):
        regs[arg] = {"address_offset": 0x10 + 0xC * i, "size": 64, "memory": bank}
    regs["n_clips"] = {"address_offset": 0x34, "size": 32}
    regs["load_params"] = {"address_offset": 0x3C, "size": 32}
    return regs


def alveo_factory(design, n_cus=1, mode="run", device=None):
    def make(mod, path):
        assert str(path).endswith(".xclbin")
        ips = {}
        for i in range(n_cus):
            regs = alveo_registers(banks=(f"DDR[{i}]", f"DDR[{i}]", f"DDR[{i}]"))
            ips[f"{TOP}_{i + 1}"] = (
                "xilinx.com:hls:cs_sparse_sparse:1.0",
                regs,
                FakeCU(design, mod.device, mode),
            )
        mod.overlay = FakeOverlay(ips, device=mod.device)
        return mod.overlay

    return make


def _alveo(tmp_path, model, design, device=None, **factory):
    device = device or XrtDevice()
    pynq = fake_pynq(alveo_factory(design, **factory), device=device)
    pynq.device = device
    xclbin = _files(tmp_path, model, backend="alveo")
    acc = AlveoAccelerator(model, VARIANT, bitstream=xclbin, pynq_module=pynq, timeout_s=0.3)
    return pynq, acc


def test_alveo_buffers_in_each_units_bank_and_bit_exact(tmp_path, model, design):
    pynq, acc = _alveo(tmp_path, model, design, n_cus=2)
    assert acc.n_instances == 2 and acc.cu_names == [f"{TOP}_1", f"{TOP}_2"]
    assert [b.bank for b in acc._params] == ["DDR[0]", "DDR[1]"]
    xq, _ = clips_for(model, 4)
    np.testing.assert_array_equal(acc.run(xq, n_instances=2), model.logits(xq, quantized=True))
    cu2 = getattr(pynq.overlay, f"{TOP}_2")
    assert cu2.calls[-1]["input"].bank == "DDR[1]" and cu2.calls[-1]["n_clips"] == 2
    result = acc.throughput(n_words=4, n_instances=2, repeats=1, warmup=0, check_words=2)
    assert result.mismatches == 0 and result.power.kind == "rated"
    assert result.power.watts == 225.0
    d = acc.describe()
    assert d["shell"].startswith("xilinx_u250") and d["clock_mhz"] == 300.0


def test_alveo_card_power_from_its_sensors(tmp_path, model, design):
    sensors = {
        "12v_pex": Rail(30.0),
        "12v_aux": Rail(12.0),
        "vccint": Rail(20.0),
        "3v3_pex": types.SimpleNamespace(power=None),
    }
    _, acc = _alveo(tmp_path, model, design, device=XrtDevice(sensors=sensors))
    result = acc.throughput(n_words=2, repeats=1, warmup=0)
    assert result.power.kind == "measured" and result.power.watts == pytest.approx(42.0)
    assert "12v_aux + 12v_pex" in result.power.source


def test_alveo_hanging_unit_times_out(tmp_path, model, design):
    pynq, acc = _alveo(tmp_path, model, design, mode="hang_clips")
    xq, _ = clips_for(model, 1)
    with pytest.raises(FpgaTimeoutError, match=r"xbutil reset"):
        acc.infer(xq, quantized=True)
    assert pynq.device.events > 0  # waited through XRT's event handling, not a blind spin


def test_alveo_refuses_another_shell(tmp_path, model, design):
    with pytest.raises(DesignMismatchError, match=r"shell xilinx_u200.*v\+\+ --platform"):
        _alveo(tmp_path, model, design, device=XrtDevice(name="xilinx_u200_gen3x16_xdma_shell_2_1"))


def test_platform_names():
    assert same_platform(
        "xilinx_u250_gen3x16_xdma_shell_4_1", "xilinx_u250_gen3x16_xdma_4_1_202210_1"
    )
    assert not same_platform("xilinx_u250_xdma_201830_2", "xilinx_u250_gen3x16_xdma_4_1_202210_1")
    assert same_platform("xilinx_u250_xdma_201830_2", None)


def test_design_paths_follow_the_board_scripts(tmp_path):
    from compsparse.fpga.manifest import design_path

    assert design_path("zynq", "sparse-sparse", tmp_path).name == "cs_sparse-sparse.bit"
    assert design_path("alveo", "sparse-dense", tmp_path).name == "cs_sparse_dense.xclbin"
    with pytest.raises(ValueError, match=r"board backends"):
        design_path("csim", "dense")


@pytest.mark.board
def test_a_real_board_is_bit_exact_and_measurable():
    """On a board: COMPSPARSE_BITSTREAM names the design, COMPSPARSE_VARIANT its variant."""
    from compsparse.fpga import choose_backend
    from compsparse.hls_models import resolve_model

    bitstream = os.environ.get("COMPSPARSE_BITSTREAM")
    if not bitstream:
        pytest.skip("set COMPSPARSE_BITSTREAM to the .bit or .xclbin to test")
    variant = os.environ.get("COMPSPARSE_VARIANT", VARIANT)
    backend = choose_backend("auto")
    assert backend != "csim", "pynq found a device, so auto must pick a board backend"
    board_model, _ = resolve_model(variant)
    with open_design(board_model, variant, backend=backend, bitstream=bitstream) as acc:
        xq, _ = clips_for(board_model, 16)
        assert acc.check(xq, quantized=True).bit_exact
        result = acc.throughput(n_words=256, repeats=2, warmup=1)
        assert result.mismatches == 0 and result.words_per_s > 0
