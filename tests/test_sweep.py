"""The recipe sweep: its CLI, resuming, and the summary the training chapter draws."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compsparse.__main__ import main
from compsparse.nn.model import NetConfig
from compsparse.nn.sweep import (
    DIAGNOSTIC_RECIPES,
    PRUNE_RECIPES,
    RECIPES,
    REFERENCE_RECIPES,
    SPLIT_RECIPES,
    load_runs,
    summarise,
)
from compsparse.nn.train import TrainConfig


def test_every_recipe_is_a_valid_configuration():
    for name, (variant, net_changes, train_changes, what) in RECIPES.items():
        NetConfig(variant, **net_changes)  # raises on an unknown field
        cfg = TrainConfig(**train_changes)
        assert what, name
        assert (cfg.distill > 0) == (variant == "sparse-sparse"), name
        assert not cfg.prune or cfg.distill > 0, name  # --teacher is checked for both
    # the chapter leaves these out of "the best recipe": they must name real recipes
    assert set(REFERENCE_RECIPES + DIAGNOSTIC_RECIPES) <= set(RECIPES)
    assert all(RECIPES[name][3].startswith("diagnostic:") for name in DIAGNOSTIC_RECIPES)
    assert {"conv2n2", "conv2n3_lin35", "conv2n2_k180_smooth"} <= set(SPLIT_RECIPES)
    assert not set(SPLIT_RECIPES) & {"base", "noboost", "sd_conv2dense"}
    assert all(RECIPES[name][0] == "sparse-sparse" for name in SPLIT_RECIPES + PRUNE_RECIPES)
    assert {"prune", "prune_conv2n3_smooth"} <= set(PRUNE_RECIPES)
    assert not set(PRUNE_RECIPES) & set(SPLIT_RECIPES + DIAGNOSTIC_RECIPES + REFERENCE_RECIPES)


def test_summarise_per_recipe_in_table_order():
    runs = [
        {"recipe": "base", "seed": 1, "test_int8": 0.90},
        {"recipe": "dense", "seed": 0, "test_int8": 0.96},
        {"recipe": "base", "seed": 0, "test_int8": 0.94},
    ]
    rows = summarise(runs)
    assert [r["recipe"] for r in rows] == ["dense", "base"]
    base = rows[1]
    assert (base["n"], base["seeds"]) == (2, [0, 1])
    assert base["mean"] == pytest.approx(0.92)
    assert (base["min"], base["max"]) == (0.90, 0.94)


def test_bad_arguments_name_the_problem(tmp_path, capsys):
    out = tmp_path / "runs.jsonl"
    assert main(["sweep", "--recipes", "base,nonsense", "--out", str(out)]) == 2
    assert "nonsense" in capsys.readouterr().out
    assert main(["sweep", "--seeds", "zero", "--out", str(out)]) == 2
    assert "--seeds" in capsys.readouterr().out
    assert main(["sweep", "--teacher", str(tmp_path / "none"), "--out", str(out)]) == 2
    assert "no such checkpoint" in capsys.readouterr().out
    assert main(["sweep", "--recipes", "dense,base", "--out", str(out)]) == 2
    assert "['base'] learn from the dense network: pass --teacher" in capsys.readouterr().out
    no_folder = str(tmp_path / "gsc")
    assert main(["sweep", "--recipes", "dense", "--data", no_folder, "--out", str(out)]) == 2
    assert "no such folder" in capsys.readouterr().out
    assert not out.exists()


def test_sweep_runs_in_processes_appends_and_resumes(tmp_path, capsys):
    out = tmp_path / "runs.jsonl"
    args = ["sweep", "--recipes", "dense", "--seeds", "0,1", "--out", str(out)]
    args += ["--epochs", "1", "--limit", "64", "--jobs", "2", "--device", "cpu"]
    assert main(args) == 0
    runs = load_runs(out)
    assert sorted(r["seed"] for r in runs) == [0, 1]
    for r in runs:
        assert r["recipe"] == "dense" and r["train"]["epochs"] == 1 and r["device"] == "cpu"
        assert len(r["val_curve"]) == 1
        for key in ("val", "test_float", "test_int8"):
            assert 0.0 <= r[key] <= 1.0
        json.dumps(r)
    capsys.readouterr()
    assert main(args) == 0  # everything is done: nothing runs again
    assert "0 runs to do, 2 already" in capsys.readouterr().out
    assert len(load_runs(out)) == 2


def test_a_failed_run_is_reported_and_the_others_keep_their_rows(tmp_path, capsys):
    out, not_a_checkpoint = tmp_path / "runs.jsonl", tmp_path / "empty"
    not_a_checkpoint.mkdir()
    args = ["sweep", "--recipes", "dense,base", "--seeds", "0", "--out", str(out)]
    args += ["--teacher", str(not_a_checkpoint), "--epochs", "1", "--limit", "64"]
    args += ["--jobs", "2", "--device", "cpu"]
    assert main(args) == 1
    said = capsys.readouterr().out
    assert "1 of 2 runs failed (base seed 0)" in said and "Traceback" in said
    assert [r["recipe"] for r in load_runs(out)] == ["dense"]
    assert main(args) == 1  # the same command retries only the failed run
    assert "1 runs to do, 1 already" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["recipe_sweep.jsonl", "split_sweep_cpu.jsonl"])
def test_committed_sweep_rows_match_their_recipes(name):
    from dataclasses import asdict

    from compsparse.nn.model import net_config
    from compsparse.paths import data_dir

    runs = load_runs(data_dir("results", "ablation", name))
    assert runs, f"{name} has no rows"
    assert {r["recipe"] for r in runs} <= set(RECIPES)  # a recipe may wait for its runs
    for r in runs:
        variant, net_changes, train_changes, _ = RECIPES[r["recipe"]]
        net = net_config(variant, seed=r["seed"], n_classes=12, **net_changes)
        assert r["net"] == json.loads(json.dumps(net.to_json())), r["recipe"]
        cfg = TrainConfig(seed=r["seed"], **train_changes)
        # rows written before a setting existed lack it: they ran with its default
        assert json.loads(json.dumps(asdict(TrainConfig()) | r["train"])) == json.loads(
            json.dumps(asdict(cfg))
        ), r["recipe"]
        assert len(r["val_curve"]) == cfg.epochs


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads children from /proc")
def test_terminating_the_sweep_stops_its_runs(tmp_path):
    out = tmp_path / "runs.jsonl"
    args = ["--recipes", "dense", "--seeds", "0,1", "--jobs", "2", "--device", "cpu"]
    args += ["--epochs", "50", "--limit", "64", "--out", str(out)]
    sweep = subprocess.Popen([sys.executable, "-m", "compsparse", "sweep", *args])
    try:
        deadline = time.monotonic() + 60
        while len(_children(sweep.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        runs = _children(sweep.pid)
        assert len(runs) >= 2, "the sweep started no runs"
        sweep.send_signal(signal.SIGTERM)
        code = sweep.wait(timeout=60)
    finally:
        sweep.kill()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in runs) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in runs if _alive(pid)]
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, "runs kept training after the sweep ended"
    assert code == 128 + signal.SIGTERM
    assert not out.exists()  # no run finished


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has stopped; only its exit code is left
