"""Run records: validated, appended atomically, never half-written, csim kept apart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from compsparse.fpga import records
from compsparse.fpga.measure import PowerReading, Throughput


def _record(**over):
    rec = {
        "schema": 1,
        "date": "2026-01-02T03:04:05+0000",
        "design": "cs_sparse_sparse",
        "variant": "sparse-sparse",
        "backend": "zynq",
        "board": "Ultra96-V2",
        "part": "xczu3eg-sbva484-1-i",
        "bitstream_sha256": "ab" * 32,
        "pynq": "3.0.1",
        "tools": {"vivado": "2022.1"},
        "instances": 1,
        "n_words": 1024,
        "words_per_s": 1234.5,
        "words_per_s_p25": 1200.0,
        "words_per_s_p75": 1250.0,
        "power_w": 5.5,
        "power_source": "PYNQ rails",
        "power_kind": "measured",
        "words_per_s_per_w": 224.5,
    }
    rec.update(over)
    return rec


def test_append_and_load_round_trip(tmp_path):
    path = tmp_path / "runs.jsonl"
    records.append_record(_record(), path)
    records.append_record(_record(instances=2, words_per_s=2000.0), path)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    got = records.load_records(path)
    assert [r["instances"] for r in got] == [1, 2]
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert not list(tmp_path.glob(".*.tmp"))


def test_missing_file_has_no_records(tmp_path):
    assert records.load_records(tmp_path / "none.jsonl") == []


@pytest.mark.parametrize(
    "change, message",
    [
        ({"words_per_s": float("nan")}, "positive"),
        ({"words_per_s": -1.0}, "positive"),
        ({"variant": "sparse"}, "variant"),
        ({"backend": "gpu"}, "backend"),
        ({"power_kind": "guessed"}, "power_kind"),
        ({"instances": "1"}, "instances"),
        ({"instances": True}, "instances"),
    ],
)
def test_invalid_records_are_refused(tmp_path, change, message):
    path = tmp_path / "runs.jsonl"
    with pytest.raises(ValueError, match=message):
        records.append_record(_record(**change), path)
    assert not path.exists()


def test_missing_field_is_named(tmp_path):
    rec = _record()
    del rec["bitstream_sha256"]
    with pytest.raises(ValueError, match="bitstream_sha256"):
        records.validate(rec)


def test_csim_records_stay_out_of_the_board_file(tmp_path):
    rec = _record(backend="csim", power_w=None, power_kind="none", words_per_s_per_w=None)
    with pytest.raises(ValueError, match="csim_runs"):
        records.append_record(rec, tmp_path / records.RUNS)
    assert records.runs_path("csim", tmp_path).name == records.CSIM_RUNS
    assert records.runs_path("alveo", tmp_path).name == records.RUNS
    records.append_record(rec, records.runs_path("csim", tmp_path))
    assert len(records.load_records(tmp_path / records.CSIM_RUNS)) == 1


def test_a_crash_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "runs.jsonl"
    records.append_record(_record(), path)
    before = path.read_bytes()

    def crash(fd):
        raise OSError("disk gone")

    monkeypatch.setattr(records.os, "fsync", crash)
    with pytest.raises(OSError, match="disk gone"):
        records.append_record(_record(words_per_s=99.0), path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp")), "the temporary file was not cleaned up"


def test_a_killed_writer_never_leaves_a_half_written_record(tmp_path):
    """SIGKILL a process in the middle of its append: the file is the old one, whole."""
    path = tmp_path / "runs.jsonl"
    records.append_record(_record(), path)
    before = path.read_bytes()
    marker = tmp_path / "writing"
    script = textwrap.dedent(
        f"""
        import os, time, pathlib
        from compsparse.fpga import records
        real = os.fsync
        def slow(fd):
            pathlib.Path({str(marker)!r}).write_text("now")
            time.sleep(60)  # killed here: the temporary file is written, not yet renamed
        records.os.fsync = slow
        rec = {json.dumps(_record(words_per_s=7.0))}
        records.append_record(rec, {str(path)!r})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the writer exited early"
            assert time.monotonic() < deadline, "the writer never reached the write"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert path.read_bytes() == before
    assert len(records.load_records(path)) == 1
    assert list(tmp_path.glob(".runs.jsonl.*.tmp")), "expected the dead writer's temporary file"
    records.append_record(_record(words_per_s=8.0), path)  # cleans up after the dead writer
    assert [r["words_per_s"] for r in records.load_records(path)] == [1234.5, 8.0]
    assert not list(tmp_path.glob(".runs.jsonl.*.tmp"))


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "runs.jsonl"
    script = textwrap.dedent(
        f"""
        import sys
        from compsparse.fpga import records
        rec = {json.dumps(_record())}
        for i in range(15):
            rec["n_words"] = int(sys.argv[1]) * 100 + i
            records.append_record(rec, {str(path)!r})
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(k)]) for k in (1, 2)]
    for p in procs:
        assert p.wait(timeout=120) == 0
    got = sorted(r["n_words"] for r in records.load_records(path))
    assert got == sorted([100 + i for i in range(15)] + [200 + i for i in range(15)])


def test_a_missing_final_newline_is_repaired(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps(_record()))  # a hand-edited file without its last newline
    records.append_record(_record(instances=3), path)
    assert [r["instances"] for r in records.load_records(path)] == [1, 3]


def test_a_corrupt_line_is_reported_with_its_number(tmp_path):
    path = tmp_path / "runs.jsonl"
    path.write_text(json.dumps(_record()) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"runs.jsonl:2"):
        records.load_records(path)


def test_make_record_from_a_measurement():
    result = Throughput(
        n_words=64,
        n_instances=2,
        repeats=3,
        warmup=1,
        seconds=[0.1, 0.1, 0.1],
        seconds_end_to_end=[0.2, 0.2, 0.2],
        words_per_s=640.0,
        words_per_s_p25=600.0,
        words_per_s_p75=660.0,
        words_per_s_min=590.0,
        words_per_s_max=670.0,
        words_per_s_end_to_end=320.0,
        power=PowerReading(225.0, "rated", "rated: 225 W"),
        checked_words=32,
    )
    desc = {
        "design": "cs_dense",
        "variant": "dense",
        "backend": "alveo",
        "board": "Alveo U250",
        "part": "xcu250-figd2104-2L-e",
        "pynq": "3.0.1",
    }
    rec = records.make_record(desc, result, note="test")
    records.validate(rec)
    assert rec["instances"] == 2 and rec["power_kind"] == "rated"
    assert rec["words_per_s_per_w"] == pytest.approx(640.0 / 225.0)
    assert rec["note"] == "test" and rec["checked_words"] == 32
