"""The HLS build around the kernels: make csim (testbenches, libraries, ASan), the sources'
rules, the stream header, the vendor-tool scripts (run through Tcl with Xilinx commands
stubbed) and the command line."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tkinter
from pathlib import Path

import numpy as np
import pytest

from compsparse import __main__ as cli
from compsparse.fpga import csim
from compsparse.hls_models import PAPER_K, PAPER_N_PER_GROUP, random_model
from compsparse.hls_params import TOPS, VARIANTS, hls_params, sort8_header, write_params
from compsparse.kwta_hw import SORT8_COMPARATORS

ROOT = Path(__file__).resolve().parents[1]
HLS = ROOT / "hls"


# ---------------------------------------------------------------- make -C hls csim


def test_make_csim_builds_and_passes_every_testbench_also_under_asan():
    env = dict(os.environ, PYTHON=sys.executable)
    result = subprocess.run(
        ["make", "-C", str(HLS), "-j2", "csim", f"PYTHON={sys.executable}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=1500,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    for variant in VARIANTS:
        passes = re.findall(rf"PASS: {variant}, (\d+) clips", out)
        assert len(passes) == 2 and all(int(n) >= 8 for n in passes), out[-4000:]  # tb + ASan
        for binary in ("tb", "libcs.so", "tb_asan"):
            assert (HLS / "build" / variant / binary).is_file()
        symbols = subprocess.run(
            ["nm", str(HLS / "build" / variant / "tb_asan")], capture_output=True, text=True
        ).stdout
        assert "__asan_init" in symbols  # really instrumented
    assert "ERROR: AddressSanitizer" not in out and "hls::stream error" not in out


def test_asan_as_the_makefile_builds_it_catches_an_overflow(tmp_path):
    """The negative control: "ASan clean" means something on this machine."""
    asan = re.search(r"^ASAN_FLAGS := (.*)$", (HLS / "Makefile").read_text(), re.M).group(1)
    src = tmp_path / "oob.cpp"
    src.write_text(
        "#include <vector>\nint main(int argc, char **) {\n"
        "  std::vector<int> a(4); volatile int i = argc + 3; a.data()[i] = 1; return a[0]; }\n"
    )
    exe = tmp_path / "oob"
    subprocess.run(["g++", *asan.split(), str(src), "-o", str(exe)], check=True)
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=False)
    assert run.returncode != 0 and "ERROR: AddressSanitizer: heap-buffer-overflow" in run.stderr


def test_the_makefile_and_the_python_build_use_the_same_flags():
    text = (HLS / "Makefile").read_text()
    flags = re.search(r"^CXXFLAGS_CSIM := (.*)$", text, re.M).group(1).split()
    assert tuple(flags) == csim.CXXFLAGS
    assert "-O2" in flags and "-Wall" in flags and "-Wno-unknown-pragmas" in flags


# ---------------------------------------------------------------- the sources' rules


def _code(path: Path) -> str:
    """C++ source without comments and string literals."""
    text = re.sub(r"//[^\n]*|/\*.*?\*/", "", path.read_text(), flags=re.S)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


def test_synthesisable_sources_use_no_dynamic_memory_or_vlas():
    files = sorted((HLS / "include").glob("*.h")) + sorted((HLS / "kernels").glob("*.cpp"))
    assert len(files) >= 10
    for path in files:
        code = _code(path)
        for banned in (r"\bnew\b", r"\bdelete\b", r"\bmalloc\b", r"\bfree\(", r"std::vector",
                       r"#include <vector>", r"\bstd::deque\b", r"\bthrow\b"):  # fmt: skip
            assert not re.search(banned, code), f"{path.name}: {banned}"
    # the kernels' C++ side never sees our simulation-only stream header
    assert not (HLS / "include" / "hls_stream.h").exists()


def test_each_variant_has_one_top_with_axi_interfaces():
    for top in TOPS.values():
        path = HLS / "kernels" / f"{top}.cpp"
        code = path.read_text()
        assert re.search(rf"^void {top}\(", code, re.M), path
        for port, bundle in (("params", "gmem0"), ("input", "gmem1"), ("logits", "gmem1")):
            assert re.search(
                rf"INTERFACE mode=m_axi port={port} offset=slave bundle={bundle} depth=", code
            ), f"{top}: m_axi {port}"
        for port in ("params", "input", "logits", "n_clips", "load_params", "return"):
            assert f"INTERFACE mode=s_axilite port={port}\n" in code, f"{top}: s_axilite {port}"
        assert '#error "cs_config.h was generated for another variant' in code
    signature = {re.sub(r"\s+", " ", m) for m in re.findall(
        r"void cs_\w+\(([^)]*)\)", (HLS / "include" / "cs_tops.h").read_text())}  # fmt: skip
    assert len(signature) == 1, "one interface for all three tops"


def test_the_sorting_network_header_is_generated_from_kwta_hw():
    text = sort8_header()
    pairs = [tuple(map(int, p)) for p in re.findall(r"\{(\d), (\d)\}", text)]
    assert pairs == list(SORT8_COMPARATORS)
    assert "CS_SORT8_N_COMPARATORS = 19" in text and "CS_SORT8_N_LAYERS = 6" in text


def test_hls_models_uses_the_networks_sparsity():
    model = pytest.importorskip("compsparse.nn.model")
    assert model.PAPER_N_PER_GROUP == PAPER_N_PER_GROUP
    assert model.PAPER_K == PAPER_K


def test_no_hls_code_is_pasted_into_the_notebooks():
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        assert "#pragma HLS" not in path.read_text(), f"{path.name}: use literalinclude"


def test_the_hls_chapter_includes_files_that_exist():
    path = ROOT / "book" / "10_hls.ipynb"
    if not path.exists():
        pytest.skip("no HLS chapter")
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
    includes = re.findall(r"^```\{literalinclude\} (\S+)$", text, re.M)
    assert len(includes) >= 5
    for inc in includes:
        assert (ROOT / "book" / inc).resolve().is_file(), inc
        assert inc.startswith("../hls/"), inc


def test_every_pragma_is_explained_in_the_hls_chapter():
    """CONTRIBUTING: every pragma is explained once in the book (chapter 10's pragma table)."""
    path = ROOT / "book" / "10_hls.ipynb"
    if not path.exists():
        pytest.skip("no HLS chapter")
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
    table = text[text.index("## The pragmas") : text.index("## C simulation")]
    kinds = set()
    files = sorted((HLS / "include").glob("*.h")) + sorted((HLS / "kernels").glob("*.cpp"))
    for source in files:
        for name, rest in re.findall(r"#pragma HLS (\w+)(.*)", source.read_text()):
            option = re.search(r"\b(type|mode)=(\w+)", rest)
            kinds.add(f"{name} {option.group(0)}" if option and name != "BIND_STORAGE" else name)
    assert {"DATAFLOW", "PIPELINE", "ARRAY_PARTITION type=cyclic"} <= kinds
    for kind in sorted(kinds):
        assert f"`{kind}" in table, f"pragma {kind} is not in chapter 10's pragma table"


# ---------------------------------------------------------------- our hls_stream.h


def test_stream_header_reports_empty_reads_and_leftovers(tmp_path):
    src = tmp_path / "s.cpp"
    src.write_text(
        "#include <hls_stream.h>\n#include <cstdio>\n"
        "int main() {\n"
        '  { hls::stream<int> s("a"); s.write(1); s << 2; int v; s >> v;\n'
        "    if (v != 1 || s.read() != 2 || !s.empty()) return 3; }\n"
        "  if (hls::stream_errors() != 0) return 4;\n"
        '  { hls::stream<int> s("b"); s.read(); }\n'  # read while empty
        '  { hls::stream<int> s("c"); s.write(5); }\n'  # destroyed with one value left
        '  std::printf("%ld\\n", hls::stream_errors()); return 0; }\n'
    )
    exe = tmp_path / "s"
    subprocess.run(
        ["g++", "-std=c++14", f"-I{HLS / 'csim' / 'include'}", str(src), "-o", str(exe)],
        check=True,
    )
    run = subprocess.run([str(exe)], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "2"
    assert "'b' read while empty" in run.stderr and "'c' destroyed with 1 values left" in run.stderr


# ---------------------------------------------------------------- Tcl scripts, Xilinx stubbed

STUBS = """
set ::calls {}
proc stub {name result} {
    proc $name args "lappend ::calls \\[list $name {*}\\$args\\]; return $result"
}
foreach c {open_project set_top add_files open_solution set_part create_clock csim_design
           csynth_design cosim_design export_design create_project set_property
           update_ip_catalog create_bd_design apply_bd_automation assign_bd_address
           validate_bd_design save_bd_design make_wrapper launch_runs wait_on_run} {
    stub $c {}
}
stub current_project prj
stub current_fileset sources_1
stub get_runs impl_1
stub get_files cs_bd.bd
stub get_board_parts avnet.com:ultra96v2:part0:1.2
stub get_property 100%
proc create_bd_cell args {
    lappend ::calls [list create_bd_cell {*}$args]; return [lindex $args end]
}
proc get_bd_intf_pins {p} { lappend ::calls [list get_bd_intf_pins $p]; return $p }
catch {rename exit _real_exit}  ;# tkinter removes exit already
proc exit args { lappend ::calls [list exit {*}$args]; return -code return }
rename file _real_file
proc file {sub args} {
    if {$sub in {copy mkdir delete}} { lappend ::calls [list file $sub {*}$args]; return }
    return [uplevel 1 [list _real_file $sub {*}$args]]
}
"""


def _run_tcl(script: Path, argv: list[str]) -> list[list[str]]:
    tcl = tkinter.Tcl()
    tcl.eval(STUBS)
    tcl.eval(f"set argv {{{' '.join('{' + a + '}' for a in argv)}}}; set argc {len(argv)}")
    tcl.eval(f"source {{{script}}}")
    calls = tcl.eval("set ::calls")
    return [list(tcl.splitlist(c)) for c in tcl.splitlist(calls)]


def _called(calls, name):
    return [c[1:] for c in calls if c[0] == name]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for variant in VARIANTS:
        model = random_model(variant, seed=0, shape=dict(in_hw=18, channels=(8, 8), kernel=3,
                                                         hidden=16, classes=4),
                             n_per_group=(2, 2, 4, 1), k=(2, 2, 4))  # fmt: skip
        folder = tmp_path_factory.mktemp(variant)
        xq = np.zeros((2, *model.input_shape), np.int8)
        write_params(hls_params(model, variant), folder, (xq, model.logits(xq, quantized=True)))
        out[variant] = folder
    return out


@pytest.mark.parametrize("flow", ["vivado", "vitis"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_run_hls_tcl_adds_existing_files_and_exports_for_the_flow(generated, variant, flow):
    part = "xczu3eg-sbva484-1-i" if flow == "vivado" else "xcu250-figd2104-2L-e"
    calls = _run_tcl(
        HLS / "scripts" / "run_hls.tcl",
        [variant, part, "5", flow, "csim csynth cosim export", str(generated[variant])],
    )
    top = TOPS[variant]
    assert _called(calls, "set_top") == [[top]]
    assert re.search(rf"^void {top}\(", (HLS / "kernels" / f"{top}.cpp").read_text(), re.M)
    added = _called(calls, "add_files")
    assert len(added) == 3
    for args in added:
        path = Path(args[-3] if args[0] != "-tb" else args[1])
        assert path.is_file(), path
        flags = args[args.index("-cflags") + 1]
        for inc in re.findall(r"-I(\S+)", flags):
            assert Path(inc).is_dir() and "csim" not in Path(inc).parts, inc
    assert _called(calls, "set_part") == [[part]]
    assert _called(calls, "create_clock") == [["-period", "5", "-name", "default"]]
    assert _called(calls, "open_solution")[0][-1] == flow
    assert _called(calls, "csim_design") == [["-argv", str(generated[variant])]]
    assert len(_called(calls, "csynth_design")) == 1 and len(_called(calls, "cosim_design")) == 1
    export = _called(calls, "export_design")[0]
    fmt = export[export.index("-format") + 1]
    assert fmt == ("xo" if flow == "vitis" else "ip_catalog")
    assert calls[-1][0] == "exit"


def test_run_hls_tcl_refuses_bad_arguments(generated, tmp_path):
    script = HLS / "scripts" / "run_hls.tcl"
    with pytest.raises(tkinter.TclError, match="unknown variant"):
        _run_tcl(script, ["sparse", "xczu3eg-sbva484-1-i", "5"])
    with pytest.raises(tkinter.TclError, match="unknown flow"):
        _run_tcl(script, ["dense", "xczu3eg-sbva484-1-i", "5", "quartus"])
    with pytest.raises(tkinter.TclError, match=r"make -C hls params-dense"):
        _run_tcl(script, ["dense", "xczu3eg-sbva484-1-i", "5", "vivado", "csim", str(tmp_path)])
    calls = _run_tcl(script, ["dense"])  # usage, then exit 1
    assert calls == [["exit", "1"]]


@pytest.mark.parametrize("variant", VARIANTS)
def test_ultra96_block_design_connects_the_hls_ip_to_the_ps(tmp_path, variant):
    calls = _run_tcl(
        HLS / "boards" / "ultra96v2" / "build_bitstream.tcl", [variant, "200", str(tmp_path)]
    )
    top = TOPS[variant]
    project = _called(calls, "create_project")[0]
    assert project[project.index("-part") + 1] == "xczu3eg-sbva484-1-i"
    assert ["ip_repo_paths", str(tmp_path), "prj"] in _called(calls, "set_property")
    # the IP's name is the one run_hls.tcl exports under
    run_hls = (HLS / "scripts" / "run_hls.tcl").read_text()
    vendor, library, version = re.search(
        r"-vendor (\S+) -library (\S+) -version (\S+)", run_hls
    ).groups()
    cells = _called(calls, "create_bd_cell")
    assert ["-type", "ip", "-vlnv", f"{vendor}:{library}:{top}:{version}", f"{top}_0"] in cells
    autos = " ".join(" ".join(c) for c in _called(calls, "apply_bd_automation"))
    for port, bundle in (("S_AXI_HP0_FPD", "gmem0"), ("S_AXI_HP1_FPD", "gmem1")):
        assert port in autos and f"{top}_0/m_axi_{bundle}" in autos
        assert f"bundle={bundle}" in (HLS / "kernels" / f"{top}.cpp").read_text()
    assert "M_AXI_HPM0_FPD" in autos and f"{top}_0/s_axi_control" in autos
    copies = [c[-1] for c in _called(calls, "file") if c[0] == "copy"]
    assert sorted(Path(c).suffix for c in copies) == [".bit", ".hwh"]
    assert all(Path(c).stem == f"cs_{variant}" for c in copies)


def test_ultra96_script_needs_the_exported_ip(tmp_path):
    with pytest.raises(tkinter.TclError, match="no HLS IP"):
        _run_tcl(
            HLS / "boards" / "ultra96v2" / "build_bitstream.tcl",
            ["dense", "200", str(tmp_path / "none")],
        )


@pytest.mark.parametrize("variant", VARIANTS)
def test_u250_link_config_and_makefile_name_the_kernel_and_its_ports(variant):
    top = TOPS[variant]
    board = HLS / "boards" / "u250"
    cfg = (board / f"link_{top}.cfg").read_text()
    assert re.search(rf"^nk={top}:1:{top}_1$", cfg, re.M)
    ports = re.findall(rf"^sp={top}_1\.m_axi_(\w+):DDR\[\d\]$", cfg, re.M)
    bundles = set(re.findall(r"bundle=(\w+)", (HLS / "kernels" / f"{top}.cpp").read_text()))
    assert sorted(ports) == sorted(bundles)
    dry = subprocess.run(
        ["make", "-n", "-C", str(board), f"VARIANT={variant}", "PLATFORM=xilinx_u250_test"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = [
        shlex.split(line)
        for line in dry.stdout.splitlines()
        if line.startswith(("vitis_hls", "v++"))
    ]
    hls_cmd = next(c for c in lines if c[0] == "vitis_hls")
    assert Path(hls_cmd[2]).is_file() and hls_cmd[4:8] == [
        variant,
        "xcu250-figd2104-2L-e",
        "3.333",
        "vitis",
    ]
    link = next(c for c in lines if c[0] == "v++")
    assert link[link.index("--config") + 1] == f"link_{top}.cfg"
    assert link[-1].endswith(f"build/vitis/{top}.xo") and "xilinx_u250_test" in link


@pytest.mark.vitis
def test_vitis_hls_synthesises_the_sparse_sparse_top():
    """Only where Vitis HLS is installed: the real C simulation and synthesis."""
    subprocess.run(
        ["make", "-C", str(HLS), "params-sparse-sparse", f"PYTHON={sys.executable}"], check=True
    )
    subprocess.run(
        ["vitis_hls", "-f", str(HLS / "scripts" / "run_hls.tcl"), "-tclargs", "sparse-sparse",
         "xczu3eg-sbva484-1-i", "5", "vivado", "csim csynth"],
        check=True, cwd=HLS,
    )  # fmt: skip


# ---------------------------------------------------------------- the command line


def test_hls_commands_are_registered():
    assert cli.COMMANDS["hls-csim"][0] == "compsparse.hls_csim"
    assert cli.COMMANDS["hls-params"][0] == "compsparse.hls_params"


def test_hls_params_command_writes_the_build_inputs(tmp_path):
    rc = cli.main(["hls-params", "--variant", "sparse-sparse", "--model", "random", "--out",
                   str(tmp_path), "--golden", "2"])  # fmt: skip
    assert rc == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["cs_config.h", "cs_sort8.h", "golden.bin", "params.bin"]
    assert (tmp_path / "params.bin").stat().st_size % 8 == 0
    assert (tmp_path / "golden.bin").read_bytes()[:4] == b"CSGV"


def test_hls_csim_command_explains_a_missing_model(tmp_path, capsys):
    rc = cli.main(["hls-csim", "--variant", "dense", "--n", "1", "--model", str(tmp_path)])
    assert rc == 2 and "no exported model" in capsys.readouterr().out


def test_hls_csim_command_passes_and_reports_a_mismatch(monkeypatch, capsys):
    pytest.importorskip("compsparse.speech")
    from compsparse.hls_models import speech_features

    try:
        speech_features("test", 3)
    except FileNotFoundError as e:
        pytest.skip(f"the embedded speech set is missing: {e}")
    args = ["hls-csim", "--variant", "sparse-sparse", "--n", "3", "--model", "random", "--json"]
    assert cli.main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["n_clips"] == 3 and doc["mismatches"] == 0 and doc["csim_ms_per_clip"] > 0

    original = csim.CsimDesign.infer_quantized

    def off_by_one(self, xq):
        logits = original(self, xq)
        logits[-1, 5] += 1
        return logits

    monkeypatch.setattr(csim.CsimDesign, "infer_quantized", off_by_one)
    assert cli.main(args[:-1]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH" in out and "logits[2, 5]" in out
