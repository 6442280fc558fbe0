"""Training: fixed masks, pickle-free checkpoints, resume == uninterrupted, clear data errors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import compsparse.nn.train as T  # noqa: E402
from compsparse.__main__ import main  # noqa: E402
from compsparse.nn.checkpoint import load_checkpoint, load_float_model  # noqa: E402
from compsparse.nn.data import DataError, load_data  # noqa: E402
from compsparse.nn.model import GSCNet, net_config  # noqa: E402

torch.set_num_threads(2)
NET = net_config(
    "sparse-sparse",
    in_hw=16,
    channels=(8, 8),
    hidden=24,
    n_classes=4,
    n_per_group=(2, 4, 4, 1),
    k=(3, 3, 6),
)
CFG = T.TrainConfig(epochs=3, batch_size=32, lr=0.05)


def _data(seed=0):
    rng = np.random.default_rng(seed)

    def split(n):
        y = rng.integers(0, 4, n)
        X = rng.standard_normal((n, 16, 16)) * 5 - 40
        rows = (np.arange(16)[None, :] // 4) == y[:, None]
        X[rows] += 10  # a learnable pattern per class: a band of four rows
        return X.astype(np.float32), y.astype(np.int64)

    return {"train": split(160), "validation": split(64)}


def _augment(data):
    X = data["train"][0]
    return lambda epoch: X + np.float32(0.1 * epoch)


def test_schedules():
    cfg = T.TrainConfig(epochs=8, boost=1.5, boost_factor=0.5, boost_off=0.25, warmup=0.25)
    assert [T.boost_at(e, cfg) for e in range(8)] == [
        1.5,
        0.75,
        0.375,
        0.1875,
        0.09375,
        0.046875,
        0,
        0,
    ]
    lrs = [T.lr_at(s, 100, cfg) for s in range(101)]
    assert lrs[0] == pytest.approx(0.1 * cfg.lr) and max(lrs) == pytest.approx(cfg.lr)
    assert lrs[100] == pytest.approx(0.0, abs=1e-12) and np.argmax(lrs) == 25


def test_k_schedule_starts_denser_and_ends_at_k():
    cfg = T.TrainConfig(epochs=10, k_start=4.0, k_anneal=0.5)
    assert [T.k_factor_at(e, cfg) for e in range(7)] == [4.0, 3.4, 2.8, 2.2, 1.6, 1.0, 1.0]
    model = GSCNet(NET)
    model.set_k_factor(4.0)
    assert [m.k_train for m in model.kwinners()] == [8, 8, 24]  # capped at n = 8 channels
    model.set_k_factor(1.0)
    assert [m.k_train for m in model.kwinners()] == [m.k for m in model.kwinners()]
    kw = model.kw3
    kw.k_train = 12
    x = torch.randn(5, 24)
    kw.train()
    assert int((kw(x) != 0).sum(dim=1).max()) == 12
    kw.eval()
    assert int((kw(x) != 0).sum(dim=1).max()) == 6


def test_training_keeps_masks_and_learns(tmp_path):
    data = _data()
    before = GSCNet(NET)
    model, history = T.train(NET, CFG, data, tmp_path, progress=False)
    for a, b in zip(before.masked_layers(), model.masked_layers(), strict=True):
        assert torch.equal(a.mask, b.mask)  # same masks as a fresh model: never changed
        assert torch.all(b.weight[~b.mask] == 0)
    assert len(history) == 3 and history[-1]["val_accuracy"] > 0.5
    assert [h["boost"] for h in history] == [T.boost_at(e, CFG) for e in range(3)]
    with np.load(tmp_path / "checkpoint.npz", allow_pickle=False) as npz:  # no pickle inside
        assert "model/conv1.mask" in npz.files and any(k.startswith("optim/") for k in npz.files)
    loaded, meta = load_checkpoint(tmp_path)
    assert meta["epoch"] == 3 and len(meta["history"]) == 3
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v)
    fm = load_float_model(tmp_path)
    x = data["validation"][0]
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(fm.logits(x), want, rtol=1e-4, atol=1e-4)


def test_resume_after_interruption_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    data = _data(1)
    aug = _augment(data)
    full, _ = T.train(NET, CFG, data, tmp_path / "a", progress=False, augment=aug)

    class Interrupted(Exception):
        pass

    real_save = T.save_checkpoint

    def save_then_stop(*args, **kwargs):
        real_save(*args, **kwargs)
        raise Interrupted

    monkeypatch.setattr(T, "save_checkpoint", save_then_stop)
    with pytest.raises(Interrupted):
        T.train(NET, CFG, data, tmp_path / "b", progress=False, augment=aug)
    monkeypatch.setattr(T, "save_checkpoint", real_save)
    assert load_checkpoint(tmp_path / "b")[1]["epoch"] == 1
    resumed, history = T.train(NET, CFG, data, tmp_path / "b", progress=False, augment=aug)
    assert len(history) == 3
    for k, v in full.state_dict().items():
        assert torch.equal(resumed.state_dict()[k], v), k


def test_distillation_from_a_teacher(tmp_path):
    data = _data(2)
    cfg = T.TrainConfig(epochs=1, batch_size=32)
    # training is deterministic, so the teacher is also the run without distillation
    teacher, h_plain = T.train(NET, cfg, data, None, progress=False)
    kd_cfg = T.TrainConfig(epochs=1, batch_size=32, distill=0.9, temperature=2.0)
    student, h_kd = T.train(NET, kd_cfg, data, None, progress=False, teacher=teacher)
    assert h_kd[0]["train_loss"] != h_plain[0]["train_loss"]
    assert not torch.equal(student.linear1.weight, teacher.linear1.weight)
    assert torch.all(student.linear1.weight[~student.linear1.mask] == 0)


def test_pruning_from_a_dense_network_keeps_its_largest_weights():
    from compsparse.nn.prune import prune_from

    data = _data(4)
    dense_net = net_config("dense", in_hw=16, channels=(8, 8), hidden=24, n_classes=4)
    dense, _ = T.train(dense_net, T.TrainConfig(epochs=2, batch_size=32), data, progress=False)
    random_start = GSCNet(NET)
    pruned = GSCNet(NET)
    prune_from(pruned, dense)
    folded = dense.to_float_model().layers
    for layer, start, src, fl in zip(
        pruned.masked_layers(),
        random_start.masked_layers(),
        dense.masked_layers(),
        folded,
        strict=True,
    ):
        assert torch.equal(layer.mask.sum(0), start.mask.sum(0))  # same shares per group
        assert torch.equal(layer.weight, src.weight * layer.mask)
        mass = np.abs(fl.weight)
        if layer.n_per_group > 1:
            assert (mass * layer.mask.numpy()).sum() > (mass * start.mask.numpy()).sum()
    assert torch.equal(pruned.bn3.weight, dense.bn3.weight)
    # training from there keeps the chosen masks
    cfg = T.TrainConfig(epochs=1, batch_size=32, prune=True)
    trained, _ = T.train(NET, cfg, data, progress=False, teacher=dense)
    for layer, chosen in zip(trained.masked_layers(), pruned.masked_layers(), strict=True):
        assert torch.equal(layer.mask, chosen.mask)
        assert torch.all(layer.weight[~layer.mask] == 0)
    with pytest.raises(ValueError, match="pass a teacher"):
        T.train(NET, cfg, data, progress=False)
    small = GSCNet(net_config("dense", in_hw=16, channels=(8, 4), hidden=24, n_classes=4))
    with pytest.raises(ValueError, match="another shape"):
        prune_from(GSCNet(NET), small)


def test_resume_refuses_another_configuration(tmp_path):
    data = _data()
    T.train(NET, T.TrainConfig(epochs=1, batch_size=32), data, tmp_path, progress=False)
    with pytest.raises(ValueError, match="another configuration"):
        T.train(NET, T.TrainConfig(epochs=2, batch_size=16), data, tmp_path, progress=False)


def test_bad_data_path_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(DataError, match="--data embedded"):
        load_data(str(tmp_path / "no_such_folder"), "train")
    code = main(
        ["train", "--variant", "dense", "--data", str(tmp_path / "nope"), "--out", str(tmp_path)]
    )
    assert code == 2
    assert "no such folder" in capsys.readouterr().out
    assert main(["evaluate", str(tmp_path / "missing_model")]) == 2
    args = ["train", "--variant", "dense", "--out", str(tmp_path), "--teacher", str(tmp_path / "x")]
    assert main(args) == 2
    assert "no checkpoint" in capsys.readouterr().out


def test_train_cli_passes_its_settings_on(tmp_path, monkeypatch):
    seen = {}
    teacher = tmp_path / "teacher"  # any checkpoint: the CLI loads it before training
    T.train(NET, T.TrainConfig(epochs=1, batch_size=32), _data(), teacher, progress=False)

    def fake_train(net, cfg, *args, **kwargs):
        seen["cfg"], seen["net"] = cfg, net
        raise KeyboardInterrupt  # stop before any training

    monkeypatch.setattr(T, "train", fake_train)
    args = ["train", "--variant", "dense", "--out", str(tmp_path), "--limit", "8"]
    with pytest.raises(KeyboardInterrupt):
        main([*args, "--weight-decay", "1e-4", "--lr", "0.05"])
    assert seen["cfg"].weight_decay == 1e-4 and seen["cfg"].lr == 0.05
    with pytest.raises(KeyboardInterrupt):
        main(args)
    assert seen["cfg"].weight_decay == T.TrainConfig().weight_decay
    sparse = ["train", "--variant", "sparse-sparse", "--out", str(tmp_path), "--limit", "8"]
    with pytest.raises(KeyboardInterrupt):
        main([*sparse, "--kernels-per-group", "2,3,35,1"])
    assert seen["net"].n_per_group == (2, 3, 35, 1)
    with pytest.raises(KeyboardInterrupt):
        main([*sparse, "--label-smoothing", "0.1"])
    assert seen["cfg"].label_smoothing == 0.1
    with pytest.raises(KeyboardInterrupt):
        main([*sparse, "--prune", "--teacher", str(teacher)])
    assert seen["cfg"].prune


@pytest.mark.parametrize(
    ("variant", "packing", "says"),
    [
        ("sparse-sparse", "2,3,35", "four positive integers"),
        ("sparse-dense", "2,0,35,1", "four positive integers"),
        ("sparse-sparse", "two", "four positive integers"),
        ("dense", "2,8,25,1", "no sparse weights"),
    ],
)
def test_bad_kernels_per_group_is_a_clear_error(tmp_path, capsys, variant, packing, says):
    args = ["train", "--variant", variant, "--out", str(tmp_path), "--kernels-per-group", packing]
    assert main(args) == 2
    assert says in capsys.readouterr().out


def test_prune_without_a_teacher_is_a_clear_error(tmp_path, capsys):
    for variant in ("sparse-sparse", "dense"):
        args = ["train", "--variant", variant, "--out", str(tmp_path / "x"), "--prune"]
        assert main(args) == 2
        assert "--prune makes a sparse variant from a trained --teacher" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["1.0", "-0.1"])
def test_label_smoothing_out_of_range_is_a_clear_error(tmp_path, capsys, value):
    args = ["train", "--variant", "dense", "--out", str(tmp_path), "--label-smoothing", value]
    assert main(args) == 2
    assert "expected 0 <= value < 1" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())  # nothing written, no data read


def test_adamw_and_label_smoothing_train_and_keep_masked_weights_zero():
    data = _data(3)
    with pytest.raises(ValueError, match="choose one of"):
        T.TrainConfig(optimizer="adam")
    plain, h_plain = T.train(NET, T.TrainConfig(epochs=1, batch_size=32), data, progress=False)
    cfg = T.TrainConfig(epochs=1, batch_size=32, optimizer="adamw", lr=3e-3, weight_decay=0.05)
    adamw, _ = T.train(NET, cfg, data, progress=False)
    assert isinstance(T._optimizer(adamw, cfg), torch.optim.AdamW)
    assert not torch.equal(adamw.linear1.weight, plain.linear1.weight)
    for layer in adamw.masked_layers():  # zero gradient and decoupled decay keep them zero
        assert torch.all(layer.weight[~layer.mask] == 0)
    smooth = T.TrainConfig(epochs=1, batch_size=32, label_smoothing=0.1)
    _, h_smooth = T.train(NET, smooth, data, progress=False)
    assert h_smooth[0]["train_loss"] > h_plain[0]["train_loss"]  # smoothed targets cost more


def test_resume_reads_checkpoints_written_before_a_setting_existed(tmp_path):
    import json

    data = _data()
    cfg = T.TrainConfig(epochs=2, batch_size=32)
    T.train(NET, T.TrainConfig(epochs=1, batch_size=32), data, tmp_path, progress=False)
    path = tmp_path / "checkpoint.npz"
    with np.load(path) as npz:  # rewrite the meta as an older version wrote it
        arrays = dict(npz)
    meta = json.loads(arrays["meta"].tobytes())
    meta["train"] = {k: v for k, v in meta["train"].items() if k != "label_smoothing"}
    meta["train"]["epochs"] = 2
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    _, history = T.train(NET, cfg, data, tmp_path, progress=False)
    assert [h["epoch"] for h in history] == [1, 2]
