"""The GSC loader on small folders made here: splits, labels, silence, unknown, bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io.wavfile

from compsparse.speech import LABELS, LABELS_COMMANDS, SpeechDataError, load_split, read_wav
from compsparse.speech.gsc import NOISE_REGIONS, check_layout, load_gsc, plan_split

SR = 16000


def _wav(path: Path, x=None, sr=SR, seed=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    if x is None:
        rng = np.random.default_rng(seed)
        x = (rng.standard_normal(SR) * 3000).astype(np.int16)
    scipy.io.wavfile.write(path, sr, x)


def make_gsc(root: Path, per_word: int = 5, words=("zero", "one", "nine", "yes", "bed", "cat")):
    """A tiny GSC folder: clip i of each word goes to test if i == 0, validation if i == 1."""
    val, test = [], []
    for w in words:
        for i in range(per_word):
            name = f"{w}/{i:08x}_nohash_0.wav"
            _wav(root / name, seed=hash((w, i)) % 1000)
            (test if i == 0 else val if i == 1 else []).append(name)
    _wav(root / "_background_noise_" / "white.wav", (np.arange(5 * SR) % 200 + 1).astype(np.int16))
    (root / "validation_list.txt").write_text("\n".join(val) + "\n")
    (root / "testing_list.txt").write_text("\n".join(test) + "\n")
    return root


@pytest.fixture
def gsc(tmp_path):
    return make_gsc(tmp_path / "gsc")


def test_splits_follow_the_lists(gsc):
    test_names = {n for n, _ in plan_split(gsc, "test", unknown_fraction=1, silence_fraction=0)[0]}
    assert test_names == {
        f"{w}/00000000_nohash_0.wav" for w in ("zero", "one", "nine", "yes", "bed", "cat")
    }
    train = load_gsc(gsc, "train", unknown_fraction=10, silence_fraction=0)
    assert len(train.y) == 6 * 3 and not any(
        n.startswith(("zero/00000000", "zero/00000001")) for n in train.names
    )
    assert (
        train.X.shape == (18, 32, 32) and train.X.dtype == np.float32 and train.y.dtype == np.int64
    )


def test_labels_digits_and_commands(gsc):
    data = load_gsc(gsc, "train", unknown_fraction=10, silence_fraction=0)
    for name, y in zip(data.names, data.y, strict=True):
        word = name.split("/")[0]
        assert LABELS[y] == (word if word in ("zero", "one", "nine") else "unknown")
    assert LABELS.index("nine") == 11 and LABELS[:2] == ("unknown", "silence")
    cmd = load_gsc(gsc, "train", scheme="commands", unknown_fraction=10, silence_fraction=0)
    yes = [y for n, y in zip(cmd.names, cmd.y, strict=True) if n.startswith("yes/")]
    assert yes and all(LABELS_COMMANDS[y] == "yes" for y in yes)
    assert (cmd.y == 0).sum() == 15  # zero, one, nine, bed, cat are unknown here


def test_unknown_and_silence_counts_and_regions(gsc):
    items, _ = plan_split(gsc, "train", unknown_fraction=1 / 3, silence_fraction=10 / 3, seed=4)
    labels = [LABELS[y] for _, y in items]
    assert labels.count("unknown") == 3 and labels.count("silence") == 30
    silence = [n for n, y in items if LABELS[y] == "silence"]
    assert sum("zeros@" in n for n in silence) == 3  # one in ten is digital zero
    lo, hi = NOISE_REGIONS["train"]
    for name in silence:
        if "zeros@" not in name:
            start = int(name.rsplit("@", 1)[1])
            assert lo * 5 * SR <= start <= hi * 5 * SR - SR
    test_items, _ = plan_split(gsc, "test", silence_fraction=2)
    for name, _ in test_items:
        if "white.wav@" in name:  # test windows start in the last 10 %, never in train's region
            assert int(name.rsplit("@", 1)[1]) >= 0.9 * 5 * SR


def test_same_seed_same_clips_different_seed_other_unknowns(tmp_path):
    root = make_gsc(tmp_path / "g", per_word=12, words=("zero", "yes", "bed", "cat", "dog"))
    a = plan_split(root, "train", unknown_fraction=0.5, seed=1)[0]
    assert a == plan_split(root, "train", unknown_fraction=0.5, seed=1)[0]
    plans = [plan_split(root, "train", unknown_fraction=0.5, seed=s)[0] for s in range(5)]
    picks = {tuple(n for n, y in plan if y == 0) for plan in plans}
    assert len(picks) > 1


def test_silence_features(gsc):
    data = load_gsc(gsc, "validation", unknown_fraction=0, silence_fraction=10 / 3)
    sil = data.X[data.y == LABELS.index("silence")]
    assert len(sil) == 10
    assert (np.abs(sil).max(axis=(1, 2)) == 0).sum() == 1  # the all-zero clip: all 0 dB


def test_missing_folder_and_layout_errors(tmp_path):
    with pytest.raises(SpeechDataError, match=r"no such folder.*expected a Google Speech Commands"):
        load_split(tmp_path / "nope", "train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpeechDataError, match="no word folders"):
        check_layout(tmp_path / "empty")
    root = make_gsc(tmp_path / "g")
    (root / "testing_list.txt").unlink()
    with pytest.raises(SpeechDataError, match=r"missing testing_list\.txt"):
        load_gsc(root, "train")
    root2 = make_gsc(tmp_path / "g2")
    for p in (root2 / "_background_noise_").iterdir():
        p.unlink()
    with pytest.raises(SpeechDataError, match="_background_noise_"):
        load_gsc(root2, "train")
    assert len(load_gsc(root2, "train", silence_fraction=0).y) > 0


@pytest.mark.parametrize(
    "kind, match",
    [
        ("empty", "empty file"),
        ("corrupt", "not a readable wav"),
        ("rate", "sample rate 8000 Hz, expected 16000"),
        ("stereo", "2 channels, expected mono"),
        ("float", "expected 16-bit PCM"),
    ],
)
def test_bad_wav_raises_naming_the_file_and_bulk_load_skips_it(tmp_path, kind, match):
    root = make_gsc(tmp_path / "g")
    bad = root / "one" / f"bad_{kind}.wav"
    if kind == "empty":
        bad.write_bytes(b"")
    elif kind == "corrupt":
        bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
    elif kind == "rate":
        _wav(bad, sr=8000)
    elif kind == "stereo":
        _wav(bad, np.zeros((SR, 2), np.int16))
    else:
        _wav(bad, np.zeros(SR, np.float32))
    with pytest.raises(SpeechDataError, match=match) as err:
        read_wav(bad)
    assert str(bad) in str(err.value)
    with pytest.warns(UserWarning, match=r"skipped 1 clip\(s\).*bad_"):
        data = load_gsc(root, "train", silence_fraction=0)
    assert data.skipped == [(f"one/bad_{kind}.wav", data.skipped[0][1])]
    assert f"one/bad_{kind}.wav" not in data.names and len(data.y) == len(data.X)


def test_list_naming_a_missing_clip_is_counted(gsc):
    with open(gsc / "testing_list.txt", "a") as f:
        f.write("zero/deadbeef_nohash_0.wav\n")
    with pytest.warns(UserWarning, match="named in testing_list.txt but missing"):
        data = load_gsc(gsc, "test", silence_fraction=0)
    assert [n for n, _ in data.skipped] == ["zero/deadbeef_nohash_0.wav"]
    assert len(data.y) == 3 + 0  # zero, one, nine test clips; unknown 10 % of 3 rounds to 0


def test_load_split_path_api_and_cache(gsc, tmp_path, monkeypatch):
    monkeypatch.setenv("COMPSPARSE_CACHE", str(tmp_path / "cache"))
    X, y = load_split(gsc, "train", progress=False)
    assert X.dtype == np.float32 and y.dtype == np.int64 and X.shape == (len(y), 32, 32)
    assert list((tmp_path / "cache" / "speech").glob("gsc-*.npz"))
    X[:] = 1  # callers get their own copy
    X2, y2 = load_split(gsc, "train", progress=False)
    assert X2.max() <= 0 and np.array_equal(y, y2)
    fresh = load_gsc(gsc, "train", cache_dir=tmp_path / "cache")  # read back from the cache
    assert np.array_equal(fresh.X, X2) and fresh.names == load_gsc(gsc, "train").names


def test_env_var_points_default_source_at_a_folder(gsc, monkeypatch):
    from compsparse.speech import default_source

    monkeypatch.setenv("COMPSPARSE_SPEECH", str(gsc))
    assert default_source() == str(gsc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, y = load_split(None, "test", cache=False, progress=False)
    assert len(y) == 3 and X.shape == (3, 32, 32)
    with pytest.raises(ValueError, match="unknown split"):
        load_split(None, "dev")
