"""The committed synthetic set in data/embedded: the contract other chapters build on."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from compsparse.speech import (
    LABELS,
    SpeechDataError,
    augmented_split,
    embedded_dir,
    load_embedded,
    load_split,
)
from compsparse.speech import synth as S
from compsparse.speech.embedded import features_checksum

SPLITS = ("train", "validation", "test")


@pytest.fixture(scope="module")
def manifest():
    return json.loads((embedded_dir() / "manifest.json").read_text())


@pytest.mark.parametrize("split", SPLITS)
def test_load_split_contract(split, manifest):
    X, y = load_split("embedded", split)
    assert X.dtype == np.float32 and X.ndim == 3 and X.shape[1:] == (32, 32)
    assert y.dtype == np.int64 and y.shape == (len(X),)
    assert X.min() >= -80 and X.max() <= 0 and np.all(X.max(axis=(1, 2)) == 0)
    counts = {lab: int((y == j).sum()) for j, lab in enumerate(LABELS)}
    assert counts == manifest["splits"][split]["per_class"]
    assert len(set(counts.values())) == 1  # balanced
    assert manifest["labels"] == list(LABELS)


def test_sizes_fit_the_training_budget(manifest):
    sizes = {s: manifest["splits"][s]["clips"] for s in SPLITS}
    assert 4000 <= sizes["train"] <= 8000 and 1000 <= sizes["validation"] <= 1500
    assert 1000 <= sizes["test"] <= 1500
    total = sum(p.stat().st_size for p in embedded_dir().rglob("*") if p.is_file())
    assert total < 20e6


def test_files_match_the_manifest(manifest):
    for name, meta in manifest["files"].items():
        data = (embedded_dir() / name).read_bytes()
        assert len(data) == meta["bytes"] and hashlib.sha256(data).hexdigest() == meta["sha256"]
    z = load_embedded()
    assert features_checksum(z["features"]) == manifest["features"]["sha256_uint8"]
    assert z["features"].dtype == np.uint8 and not z["features"].flags.writeable


def test_a_changed_archive_is_refused(tmp_path):
    for f in ("gsc_synth.npz", "manifest.json"):
        (tmp_path / f).write_bytes((embedded_dir() / f).read_bytes())
    raw = bytearray((tmp_path / "gsc_synth.npz").read_bytes())
    raw[-100] ^= 1
    (tmp_path / "gsc_synth.npz").write_bytes(bytes(raw))
    with pytest.raises(SpeechDataError, match="does not match the sha256"):
        load_embedded(tmp_path)
    with pytest.raises(SpeechDataError, match="make-speech"):
        load_embedded(tmp_path / "missing")


def test_no_voice_in_two_splits():
    z = load_embedded()
    variant_of = {s.id: s.variant for s in S.make_speakers(z["manifest"]["seed"])}
    seen: dict[str, int] = {}
    for name, split in zip(z["name"], z["split"], strict=True):
        name = name.decode()
        if name.startswith("_silence_/"):
            continue
        variant = variant_of[name.split("/")[1][:8]]
        assert seen.setdefault(variant, split) == split, f"{variant} in two splits"
    assert len(set(seen.values())) == 3


def test_readme_says_it_is_synthetic():
    text = (embedded_dir() / "README.md").read_text().lower()
    assert "synthetic" in text and "espeak-ng" in text and "not" in text


def test_augmented_split_is_deterministic_in_seed_and_epoch():
    X, y = load_split("embedded", "train")
    a, ya = augmented_split("embedded", "train", epoch=0, seed=1)
    b, _ = augmented_split("embedded", "train", epoch=0, seed=1)
    c, _ = augmented_split("embedded", "train", epoch=1, seed=1)
    d, _ = augmented_split("embedded", "train", epoch=0, seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, d)
    assert np.array_equal(ya, y) and a.dtype == np.float32 and a.shape == X.shape
    assert a.min() >= -80 and a.max() <= 0
    assert 0.05 < np.mean(np.abs(a - X) > 1) < 0.9  # changed, but still the same clips


def test_scheme_mismatch_is_explained():
    with pytest.raises(SpeechDataError, match="make-speech --scheme commands"):
        load_split("embedded", "train", scheme="commands")
