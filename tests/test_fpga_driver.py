"""The driver interface and its csim backend, end to end: bit-exact, measured, recorded."""

from __future__ import annotations

import numpy as np
import pytest

from compsparse.export import save_model
from compsparse.fpga import BACKENDS, choose_backend, open_design
from compsparse.fpga.driver import ENV_BACKEND, CsimAccelerator, infer_variant
from compsparse.fpga.measure import PowerMeter, measure, sample_power
from compsparse.fpga.records import append_record, load_records, make_record, runs_path
from compsparse.hls_models import random_model
from compsparse.hls_models import test_inputs as clips_for

CAL = np.linspace(-80.0, 0.0, 2 * 32 * 32, dtype=np.float32).reshape(2, 32, 32)


@pytest.fixture(scope="module")
def models():
    return {v: random_model(v, seed=3, calibration=CAL) for v in BACKEND_VARIANTS}


BACKEND_VARIANTS = ("dense", "sparse-dense", "sparse-sparse")


def test_backend_choice(monkeypatch):
    monkeypatch.delenv(ENV_BACKEND, raising=False)
    assert choose_backend() == "csim"
    assert choose_backend("Zynq") == "zynq"
    monkeypatch.setenv(ENV_BACKEND, "alveo")
    assert choose_backend() == "alveo"
    assert choose_backend("csim") == "csim"  # the argument wins
    monkeypatch.setenv(ENV_BACKEND, "fpga")
    with pytest.raises(ValueError, match=ENV_BACKEND):
        choose_backend()
    with pytest.raises(ValueError, match="csim"):
        choose_backend("gpu")
    assert set(BACKENDS) == {"csim", "zynq", "alveo"}


def test_auto_without_a_board_is_csim(monkeypatch):
    monkeypatch.setenv("COMPSPARSE_NO_BOARD", "1")
    assert choose_backend("auto") == "csim"


def test_infer_variant(models):
    for variant, model in models.items():
        model = random_model(variant, seed=4, calibration=CAL)
        model.meta.pop("variant", None)
        assert infer_variant(model) == variant


@pytest.mark.parametrize("variant", BACKEND_VARIANTS)
def test_csim_backend_is_bit_exact(models, variant):
    model = models[variant]
    acc = open_design(model, variant, backend="csim")
    assert isinstance(acc, CsimAccelerator) and acc.n_instances == 1
    xq, _ = clips_for(model, 3)
    logits = acc.infer(xq, quantized=True)
    assert logits.dtype == np.int32 and logits.shape == (3, 12)
    np.testing.assert_array_equal(logits, model.logits(xq, quantized=True))
    check = acc.check(xq, quantized=True)
    assert check.bit_exact and check.n_clips == 3 and check.max_abs_diff == 0


def test_csim_from_float_features_and_a_model_folder(models, tmp_path):
    model = models["sparse-sparse"]
    folder = save_model(model, tmp_path / "model")
    with open_design(folder, backend="csim") as acc:
        assert acc.variant == "sparse-sparse" and acc.source == str(folder)
        x = np.linspace(-70, -5, 2 * 1024, dtype=np.float32).reshape(2, 32, 32)
        np.testing.assert_array_equal(acc.infer(x), model.logits(x))
        np.testing.assert_array_equal(acc.predict(x), model.predict(x))
        assert acc.describe()["model"] == str(folder)


def test_bad_inputs_are_named(models):
    acc = open_design(models["sparse-dense"], backend="csim")
    with pytest.raises(ValueError, match="int8"):
        acc.infer(np.zeros((1, 32, 32), np.int16), quantized=True)
    with pytest.raises(ValueError, match="clips"):
        acc.infer(np.zeros((1, 30, 30), np.float32))
    with pytest.raises(ValueError, match="zynq and alveo"):
        open_design(models["sparse-dense"], backend="csim", bitstream="x.bit")
    with pytest.raises(TypeError, match="csim backend takes no"):
        open_design(models["sparse-dense"], backend="csim", clock_mhz=100)


def test_csim_throughput_and_its_record(models, tmp_path):
    acc = open_design(models["sparse-sparse"], backend="csim")
    result = acc.throughput(n_words=4, repeats=2, warmup=1)
    assert result.words_per_s > 0 and len(result.seconds) == 2
    assert result.words_per_s_min <= result.words_per_s <= result.words_per_s_max
    assert result.checked_words == 4 and result.mismatches == 0
    assert result.power.kind == "none" and result.words_per_s_per_w is None
    with pytest.raises(ValueError, match="instances"):
        acc.throughput(n_words=4, n_instances=2)
    rec = make_record(acc.describe(), result, acc.check(clips_for(acc.model, 2)[0], True))
    assert rec["backend"] == "csim" and rec["check_bit_exact"]
    path = append_record(rec, runs_path("csim", tmp_path))
    assert path.name == "csim_runs.jsonl"
    assert load_records(path, backend="csim")[0]["design"] == "cs_sparse_sparse"


class _Meter(PowerMeter):
    source = "test rail"

    def __init__(self, values):
        self.values = list(values)

    def read(self):
        if not self.values:
            raise OSError("sensor gone")
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


def test_measure_reports_median_spread_and_power():
    ticks = iter(np.arange(0.0, 100.0, 0.5))
    calls = []
    result = measure(
        lambda: calls.append("x"),
        lambda: calls.append("rt"),
        n_words=10,
        n_instances=1,
        repeats=3,
        warmup=2,
        power=sample_power(_Meter([4.0, 6.0, 5.0]), 24.0, "rated"),
        clock=lambda: float(next(ticks)),
    )
    assert calls.count("x") == 5 and calls.count("rt") == 3  # 2 warm-up + 3 timed
    assert result.seconds == [0.5, 0.5, 0.5] and result.words_per_s == pytest.approx(20.0)
    assert result.power.kind == "measured" and result.power.source == "test rail"
    assert result.words_per_s_per_w == pytest.approx(20.0 / result.power.watts)


def test_power_falls_back_to_the_rated_figure():
    with sample_power(_Meter([]), 225.0, "rated: the card's maximum") as s:
        pass
    assert s.result.kind == "rated" and s.result.watts == 225.0
    assert "failed" in s.result.source and "sensor gone" in s.result.source
    with sample_power(None, None, "C simulation") as s:
        pass
    assert s.result.kind == "none" and s.result.watts is None


def test_measure_refuses_nonsense():
    with pytest.raises(ValueError, match="repeats"):
        measure(lambda: None, lambda: None, n_words=1, n_instances=1, repeats=0)
