"""The espeak-ng generator: voices split cleanly, output in the GSC layout, reproducible."""

from __future__ import annotations

import shutil
from collections import Counter

import numpy as np
import pytest

from compsparse.__main__ import main
from compsparse.speech import LABELS, load_embedded, load_split, read_wav
from compsparse.speech import synth as S
from compsparse.speech.cli import _prepare_out
from compsparse.speech.embedded import features_checksum
from compsparse.speech.features import log_mel, quantize_db
from compsparse.speech.gsc import NOISE_REGIONS, SPLITS


@pytest.fixture
def espeak():
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed: apt-get install espeak-ng")


def test_speakers_are_split_by_variant():
    speakers = S.make_speakers(0)
    assert len(speakers) == len(S.ACCENTS) * len(S.VARIANTS)
    assert len({s.id for s in speakers}) == len(speakers)
    split_of = {}
    for s in speakers:
        assert split_of.setdefault(s.variant, s.split) == s.split
    counts = Counter(split_of.values())
    assert counts == {"train": 70, "validation": 15, "test": 15}


def test_plan_is_balanced_seeded_and_names_are_gsc_like():
    plan = S.plan_clips(0, (6, 2, 2))
    assert plan == S.plan_clips(0, (6, 2, 2)) and plan != S.plan_clips(1, (6, 2, 2))
    assert len({c.name for c in plan}) == len(plan) == 11 * 10
    for split, n in zip(SPLITS, (6, 2, 2), strict=True):
        words = Counter(
            c.word if c.word in LABELS else "unknown" for c in plan if c.speaker.split == split
        )
        assert set(words.values()) == {n} and len(words) == 11
    for c in plan:
        word, rest = c.name.split("/")
        assert word == c.word and rest.startswith(f"{c.speaker.id}_nohash_")
        assert 5 <= c.snr_db <= 30 and c.noise in S.NOISE_KINDS


def test_synthesize_a_word(espeak):
    x = S.synthesize("seven", "en-us+m3", 160, 50)
    assert x.dtype == np.float32 and 0.25 * 16000 < len(x) < 16000
    peak = np.abs(x).max()
    assert np.abs(x[:400]).max() > 0.01 * peak * 0.5  # trimmed: sound within 25 ms of the start
    with pytest.raises(S.SpeechDataError, match="espeak-ng failed"):
        S.synthesize("seven", "xx-nonexistent-voice")


def test_missing_espeak_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(S, "ESPEAK", "espeak-ng-is-not-here")
    assert main(["make-speech", "--out", str(tmp_path / "o"), "--compact", "-"]) == 1
    assert "apt-get install espeak-ng" in capsys.readouterr().err


def test_out_folder_guard(tmp_path):
    assert _prepare_out(tmp_path / "new", force=False) is None
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "precious.txt").write_text("x")
    assert "not made by make-speech" in _prepare_out(tmp_path / "theirs", force=True)
    assert (tmp_path / "theirs" / "precious.txt").exists()
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "README.txt").write_text("Synthetic speech (espeak-ng)")
    assert "--force" in _prepare_out(ours, force=False)
    assert _prepare_out(ours, force=True) is None and not ours.exists()


def test_small_set_end_to_end_and_reproducible(espeak, tmp_path):
    args = ["make-speech", "--seed", "5", "--per-class", "2", "1", "1", "--jobs", "2"]
    assert main([*args, "--out", str(tmp_path / "gsc"), "--compact", str(tmp_path / "a")]) == 0
    gsc = tmp_path / "gsc"
    assert (gsc / "validation_list.txt").is_file() and (gsc / "_background_noise_").is_dir()
    z = load_embedded(tmp_path / "a")
    manifest = z["manifest"]
    assert manifest["splits"]["train"]["per_class"] == dict.fromkeys(LABELS, 2)
    assert manifest["splits"]["test"]["per_class"] == dict.fromkeys(LABELS, 1)
    # the compact form is exactly what the GSC loader reads from the folder
    X, y = load_split(gsc, "train", cache=False, progress=False)
    rows = z["split"] == 0
    assert np.array_equal(quantize_db(X), z["features"][rows]) and np.array_equal(
        y, z["label"][rows]
    )
    # no voice in two splits
    voices = [
        {
            n.decode().split("/")[1][:8]
            for n, s in zip(z["name"], z["split"], strict=True)
            if s == i and not n.startswith(b"_silence_")
        }
        for i in range(3)
    ]
    assert not (voices[0] & voices[1] or voices[0] & voices[2] or voices[1] & voices[2])
    # same seed, same bytes (a second run from scratch)
    assert main([*args, "--force", "--out", str(gsc), "--compact", str(tmp_path / "b")]) == 0
    for f in ["gsc_synth.npz", "samples/02_zero.wav"]:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_regenerated_clips_match_the_committed_set(espeak):
    """Re-render one test clip per word (and a few silences) and compare with data/embedded."""
    z = load_embedded()
    manifest = z["manifest"]
    seed, per_class = manifest["seed"], tuple(manifest["generator"]["per_class"])
    plan = S.plan_clips(seed, per_class, manifest["scheme"])
    firsts = {}
    for c in plan:
        if c.speaker.split == "test":
            firsts.setdefault(c.word if c.word in LABELS else "unknown", c)
    bank = S.noise_bank(seed)
    names = [n.decode() for n in z["name"]]
    row = {n: i for i, n in enumerate(names)}
    fresh = quantize_db(log_mel(np.stack([S.render_clip(c, bank) for c in firsts.values()])))
    committed = z["features"][[row[c.name] for c in firsts.values()]]
    # Silence is cut from the noise by the loader: check windows from every noise kind.
    silences = [n for n in names if n.startswith("_silence_/") and "zeros@" not in n][:40]
    audio = []
    for name in silences:
        kind, start = name[len("_silence_/") :].split(".wav@")
        audio.append(bank[kind][int(start) : int(start) + 16000])
    fresh_sil = quantize_db(log_mel(np.stack(audio)))
    committed_sil = z["features"][[row[n] for n in silences]]
    version = S.espeak_version()
    if version != manifest["generator"]["espeak_ng"]:
        pytest.skip(
            f"espeak-ng {version} here, the committed set was made with "
            f"{manifest['generator']['espeak_ng']}: exact comparison skipped"
        )
    # Exact on the machine that made it; elsewhere a float rounding may move a cell by one code.
    for a, b in [(fresh, committed), (fresh_sil, committed_sil)]:
        diff = np.abs(a.astype(int) - b.astype(int))
        assert diff.max() <= 1 and (diff == 0).mean() >= 0.999


def test_committed_regions_keep_noise_apart():
    z = load_embedded()
    for i, split in enumerate(SPLITS):
        lo, hi = NOISE_REGIONS[split]
        for n in z["name"][z["split"] == i]:
            n = n.decode()
            if n.startswith("_silence_/") and "zeros@" not in n:
                start = int(n.rsplit("@", 1)[1])
                length = S.NOISE_SECONDS * 16000
                assert lo * length <= start <= hi * length - 16000


@pytest.mark.slow
def test_full_regeneration_matches_the_manifest(espeak, tmp_path):
    """make-speech from scratch gives the committed features, byte for byte (about a minute)."""
    manifest = load_embedded()["manifest"]
    per = [str(n) for n in manifest["generator"]["per_class"]]
    argv = [
        "make-speech",
        "--seed",
        str(manifest["seed"]),
        "--per-class",
        *per,
        "--out",
        str(tmp_path / "gsc"),
        "--compact",
        str(tmp_path / "emb"),
    ]
    assert main(argv) == 0
    z = load_embedded(tmp_path / "emb")
    assert features_checksum(z["features"]) == manifest["features"]["sha256_uint8"]
    assert z["manifest"]["files"] == manifest["files"]
    assert read_wav(tmp_path / "emb" / "samples" / "02_zero.wav").shape == (16000,)
