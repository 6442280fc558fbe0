"""Models and clips for checking the HLS kernels: the exported models, or random stand-ins.

The HLS checks run the three exported speech models (``data/models/<variant>/``) when they
exist. Before they do, and for tests that need many different weights, :func:`random_model`
builds a model of the same shape with random weights in complementary masks and quantises it
with the real int8 scheme (calibrated on speech features), so every integer range the kernels
see is the range of a trained model, not a made-up one.

Book: chapter "HLS" (book/10_hls.ipynb).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .export import FloatLayer, FloatModel, load_model, quantize_model
from .packing import complementary_masks
from .quant import QuantModel

__all__ = [
    "PAPER_K",
    "PAPER_N_PER_GROUP",
    "random_model",
    "resolve_model",
    "speech_features",
    "test_inputs",
]

# The speech network's sparsity (compsparse.nn.model, which needs torch to import; a test
# checks that the two agree): kernels per packed kernel for conv1, conv2, linear1, output, and
# k-WTA winners after conv1, conv2 (per pixel, of 64 channels) and linear1 (of 1500 units).
PAPER_N_PER_GROUP = (2, 8, 25, 1)
PAPER_K = (7, 7, 150)
_SHAPE = dict(in_hw=32, channels=(64, 64), kernel=5, pool=2, hidden=1500, classes=12)


def speech_features(split: str, n: int | None = None) -> np.ndarray:
    """float32 ``(n, 32, 32)`` features of the embedded speech set (first ``n`` of ``split``).

    Raises:
        FileNotFoundError: the embedded set is not in ``data/embedded`` (the message says how to
            make it).
    """
    from .speech import SpeechDataError, load_split

    try:
        x, _ = load_split("embedded", split, progress=False)
    except SpeechDataError as e:  # the set is missing or incomplete
        raise FileNotFoundError(str(e)) from e
    return x if n is None else x[:n]


def random_model(
    variant: str,
    seed: int = 0,
    calibration: np.ndarray | None = None,
    n_per_group=PAPER_N_PER_GROUP,
    k=PAPER_K,
    shape: dict | None = None,
) -> QuantModel:
    """A random int8 model of the speech network, quantised by ``export.quantize_model``.

    Args:
        variant: ``"dense"`` (every layer dense, no k-WTA), ``"sparse-dense"`` (``n_per_group``
            kernels per packed kernel, no k-WTA) or ``"sparse-sparse"`` (and ``k`` winners).
        seed: seeds masks and weights.
        calibration: float features ``(n, h, w)`` to calibrate the int8 scales (default: 256
            embedded training clips, or seeded noise in the features' range if the set is
            missing).
        shape: overrides of the sizes (``in_hw``, ``channels``, ``kernel``, ``pool``,
            ``hidden``, ``classes``) for scaled-down models.

    Returns:
        The :class:`~compsparse.quant.QuantModel`, ``meta["source"] = "random"``.
    """
    if variant not in ("dense", "sparse-dense", "sparse-sparse"):
        raise ValueError(f"unknown variant {variant!r}")
    s = dict(_SHAPE, **(shape or {}))
    rng = np.random.default_rng(seed)
    npg = (1, 1, 1, 1) if variant == "dense" else tuple(n_per_group)
    ks = [*k, None] if variant == "sparse-sparse" else [None] * 4
    (c1, c2), kern, pool, hw = s["channels"], s["kernel"], s["pool"], s["in_hw"]
    hw1 = (hw - kern + 1) // pool
    hw2 = (hw1 - kern + 1) // pool
    flat = c2 * hw2 * hw2
    specs = [
        ("conv1", "conv2d", (c1, 1, kern, kern), (1, hw, hw), pool),
        ("conv2", "conv2d", (c2, c1, kern, kern), (c1, hw1, hw1), pool),
        ("linear1", "linear", (s["hidden"], flat), (flat,), 1),
        ("output", "linear", (s["classes"], s["hidden"]), (s["hidden"],), 1),
    ]
    layers = []
    for i, (name, kind, wshape, in_shape, p) in enumerate(specs):
        masks = complementary_masks(wshape[0], wshape[1:], npg[i], seed=rng)
        fan_in = max(1, int(np.prod(wshape[1:])) // npg[i])
        w = rng.standard_normal(wshape) * np.sqrt(2.0 / fan_in) * masks
        bias = rng.normal(0.0, 0.1, wshape[0])
        layers.append(
            FloatLayer(
                name=name,
                kind=kind,
                weight=w.astype(np.float32),
                mask=masks,
                n_per_group=npg[i],
                bias=bias.astype(np.float32),
                in_shape=in_shape,
                pool=p,
                k=ks[i],
                relu=i < 3,
            )
        )
    if calibration is None:
        calibration = _calibration(hw, rng)
    calibration = np.asarray(calibration, dtype=np.float32)
    offset, std = float(calibration.mean()), float(calibration.std()) or 1.0
    labels = [f"class{i}" for i in range(s["classes"])]
    fm = FloatModel(layers, offset, std, labels, meta={"variant": variant, "source": "random"})
    qm = quantize_model(fm, calibration)
    qm.meta["source"] = "random"
    qm.meta["seed"] = seed
    return qm


def _calibration(hw: int, rng) -> np.ndarray:
    if hw == 32:
        try:
            return speech_features("train", 256)
        except FileNotFoundError:
            pass
    return np.clip(rng.normal(-40.0, 15.0, (256, hw, hw)), -80.0, 0.0).astype(np.float32)


def resolve_model(variant: str, model=None, seed: int = 0) -> tuple[QuantModel, str]:
    """The model to check a variant with, and a description of where it came from.

    Args:
        model: a folder, a QuantModel, ``"random"``, or ``None``: ``data/models/<variant>`` if
            it has an exported model, else a random one (seeded by ``seed``).
    """
    if isinstance(model, QuantModel):
        return model, str(model.meta.get("source", "a QuantModel"))
    if model is None:
        from .paths import repo_root

        default = repo_root() / "data" / "models" / variant
        model = str(default) if (default / "model.json").is_file() else "random"
    if model == "random":
        return random_model(variant, seed=seed), f"a random {variant} model (seed {seed})"
    from .paths import shown_path

    path = Path(model)
    return load_model(path), shown_path(path)


def test_inputs(model: QuantModel, n: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """int8 inputs ``(n, *input_shape)`` for a model: the first ``n`` embedded test clips.

    Falls back to seeded random int8 inputs (and says so in the description) when the model
    is not 32x32 or the embedded set is missing.
    """
    if model.input_shape == (1, 32, 32):
        try:
            x = speech_features("test", n)
            if len(x) >= n:
                return model.quantize(x).reshape(n, *model.input_shape), f"{n} embedded test clips"
        except FileNotFoundError:
            pass
    rng = np.random.default_rng(seed)
    xq = rng.integers(-128, 128, (n, *model.input_shape), dtype=np.int16).astype(np.int8)
    return xq, f"{n} random int8 inputs"
