"""The committed models in data/models/ and their results in data/results/ agree and hold up."""

from __future__ import annotations

import numpy as np
import pytest

from compsparse.evaluate import VARIANTS, committed_results, evaluate_path
from compsparse.export import load_model
from compsparse.paths import repo_root

MODELS = repo_root() / "data" / "models"
# configured sparsity: kernels per group (conv1, conv2, linear1, output) and k per hidden layer
# (sparse-sparse: the split of chapter "Training", section "Start from the dense network")
CONFIG = {
    "dense": ((1, 1, 1, 1), (None, None, None, None)),
    "sparse-dense": ((2, 8, 25, 1), (None, None, None, None)),
    "sparse-sparse": ((2, 3, 35, 1), (7, 7, 150, None)),
}


def _model(variant):
    if not (MODELS / variant / "model.json").is_file():
        pytest.skip(f"no committed model in data/models/{variant}")
    return load_model(MODELS / variant)


@pytest.fixture(scope="module")
def results():
    res = committed_results()
    if not all(res[v].get("int8") and res[v].get("float32") for v in VARIANTS):
        pytest.skip("no committed results in data/results/evaluate/")
    return res


@pytest.mark.parametrize("variant", VARIANTS)
def test_models_have_the_configured_sparsity(variant):
    model = _model(variant)
    npg, ks = CONFIG[variant]
    assert [layer.weights.n_per_group for layer in model.layers] == list(npg)
    assert [layer.k for layer in model.layers] == list(ks)
    assert [layer.in_shape for layer in model.layers] == [
        (1, 32, 32),
        (64, 14, 14),
        (1600,),
        (1500,),
    ]
    assert all(layer.acc_bits <= 32 for layer in model.layers)


@pytest.mark.parametrize("variant", VARIANTS)
def test_golden_vectors_match_the_pipeline(variant):
    model = _model(variant)
    with np.load(MODELS / variant / "golden.npz", allow_pickle=False) as g:
        for n, x in enumerate(g["features"]):
            steps = model.forward_layers(x)
            assert np.array_equal(g["input"][n, 0], model.quantize(x))
            for layer, step in zip(model.layers, steps, strict=True):
                assert np.array_equal(g[f"{layer.name}.acc"][n], step.acc)
                if step.active is not None:
                    assert np.array_equal(g[f"{layer.name}.active_indices"][n], step.active.indices)
            assert np.array_equal(g["logits"][n], steps[-1].acc)


@pytest.mark.parametrize("variant", VARIANTS)
def test_evaluation_reproduces_the_committed_int8_results(variant, results):
    _model(variant)
    fresh = evaluate_path(MODELS / variant, "embedded", "test", check=2)
    committed = results[variant]["int8"]
    assert fresh["reference_check"]["bit_exact"]
    assert fresh["accuracy"] == committed["accuracy"]
    assert fresh["predictions"] == committed["predictions"]
    assert [r["input_sparsity"] for r in fresh["layers"]] == [
        r["input_sparsity"] for r in committed["layers"]
    ]
    assert fresh["accuracy"] > 5 * fresh["chance_uniform"]  # well above chance


def test_sparse_sparse_int8_within_one_point_of_dense_float(results):
    dense_float = results["dense"]["float32"]["accuracy"]
    ss_int8 = results["sparse-sparse"]["int8"]["accuracy"]
    assert ss_int8 >= dense_float - 0.010, (ss_int8, dense_float)


def test_results_are_on_the_embedded_test_split(results):
    for variant in VARIANTS:
        for precision in ("float32", "int8"):
            r = results[variant][precision]
            assert r["data"] == "embedded" and r["split"] == "test"


def test_sparse_sparse_activations_are_as_sparse_as_configured(results):
    layers = results["sparse-sparse"]["int8"]["layers"]
    # inputs of conv2 and linear1: 7 of 64 channels per pixel; of the output: 150 of 1500
    for row, k_fraction in zip(layers[1:], [7 / 64, 7 / 64, 150 / 1500], strict=True):
        assert row["input_sparsity"] >= 1 - k_fraction - 1e-12
        assert 0.88 <= row["input_sparsity"] <= 0.95
    # conv1 32 groups x 25 + conv2 21 x 1600 + 534 (a last group of one kernel) + linear1
    # 42 x 1600 + 1375 (30 kernels) + the dense output layer's 18,000
    assert results["sparse-sparse"]["int8"]["weights_in_masks"] == 121_509


def test_recipe_table_ends_with_the_committed_model(results):
    from compsparse.evaluate import RECIPES, recipe_results

    rows = recipe_results()
    assert [r["recipe"] for r in rows] == list(RECIPES)
    final = results["sparse-sparse"]
    assert rows[-1]["int8"] == final["int8"]["accuracy"]
    assert rows[-1]["float32"] == final["float32"]["accuracy"]
    train = final["training"]["train"]
    assert train["distill"] > 0 and train["k_start"] > 1 and train["prune"]
    assert train["label_smoothing"] == 0.1
    for r in rows:
        assert 5 * results["sparse-sparse"]["int8"]["chance_uniform"] < r["int8"] <= 1
