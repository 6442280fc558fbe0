"""The synthetic speech set: espeak-ng words written in the Google Speech Commands layout.

Book: chapter "Speech data".

A *speaker* is one espeak-ng accent (8 English ones) with one voice variant (100 of espeak-ng's
variants: formants, breathiness, whisper, robots...), a base pitch and speed, and a microphone
(a band-pass filter). The variants are shuffled and dealt to train / validation / test (70 / 15
/ 15 %), with all eight accents of a variant in the same split, so no voice is heard in two
splits. Each clip varies the speaker's pitch and speed, places the trimmed word at a random
point of the 1 s clip (sometimes cutting its edge), sets a random level, and mixes a background
noise (white, pink, brown, mains hum, running tap, babble) at a random SNR. "unknown" clips say
the other GSC words; "silence" clips are cut from the background noise by the loader.

Everything random is drawn from ``numpy.random.default_rng`` seeded by ``seed`` in
:func:`plan_clips` and :func:`noise_bank`, before any audio is made, so any subset of clips can
be re-rendered on its own (that is how the reproducibility test works).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.fft
import scipy.signal

from .features import SAMPLE_RATE
from .gsc import LIST_FILES, NOISE_DIR, NOISE_REGIONS, SPLITS
from .labels import GSC_WORDS, target_words
from .wavio import SpeechDataError, parse_wav_bytes, write_wav

__all__ = [
    "ACCENTS",
    "GENERATOR_VERSION",
    "NOISE_KINDS",
    "VARIANTS",
    "ClipSpec",
    "Speaker",
    "espeak_version",
    "make_speakers",
    "noise_bank",
    "plan_clips",
    "render_clip",
    "synthesize",
    "write_gsc_layout",
]

GENERATOR_VERSION = 1
ESPEAK = "espeak-ng"
ACCENTS = (
    "en-us",
    "en",
    "en-gb-scotland",
    "en-gb-x-gbclan",
    "en-gb-x-rp",
    "en-gb-x-gbcwmd",
    "en-029",
    "en-us-nyc",
)
# espeak-ng 1.51's variant files (espeak-ng-data/voices/!v), less "Mr serious" (a space in it).
VARIANTS = tuple(
    """Alex Alicia Andrea Andy Annie AnxiousAndy Demonic Denis Diogo Gene Gene2 Henrique Hugo
    Jacky Lee Marco Mario Michael Mike Nguyen RicishayMax RicishayMax2 RicishayMax3 Storm Tweaky
    UniRobot adam anika anikaRobot announcer antonio aunty belinda benjamin boris caleb croak david
    ed edward edward2 f1 f2 f3 f4 f5 fast grandma grandpa gustave iven iven2 iven3 iven4 john
    kaukovalta klatt klatt2 klatt3 klatt4 klatt5 klatt6 linda m1 m2 m3 m4 m5 m6 m7 m8 marcelo max
    michel miguel norbert pablo paul pedro quincy rob robert robosoft robosoft2 robosoft3 robosoft4
    robosoft5 robosoft6 robosoft7 robosoft8 sandro shelby steph steph2 steph3 travis victor
    whisper whisperf zac""".split()
)
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
NOISE_KINDS = ("white", "pink", "brown", "hum", "tap", "babble")
NOISE_SECONDS = 60
NOISE_RMS = 0.1
SNR_DB = (5.0, 30.0)  # per clip, uniform: from hard (babble at 5 dB) to nearly clean
ESPEAK_RATE = 22050


@dataclass(frozen=True)
class Speaker:
    """One synthetic voice; ``id`` is the 8-hex prefix of its GSC file names."""

    id: str
    accent: str
    variant: str
    pitch: int  # espeak-ng -p, 0..99
    speed: int  # espeak-ng -s, words per minute
    low_hz: float  # microphone band-pass
    high_hz: float
    split: str


@dataclass(frozen=True)
class ClipSpec:
    """Everything needed to render one clip, drawn in advance from the seed."""

    name: str  # "word/<speaker id>_nohash_<k>.wav"
    word: str
    speaker: Speaker
    pitch: int
    speed: int
    gain_db: float  # peak level below 0.9 full scale
    place: float  # where the word starts, in [0, 1) of the free room
    noise: str
    noise_pos: float  # where in the split's region of that noise, in [0, 1)
    snr_db: float


def make_speakers(seed: int, variants: tuple[str, ...] = VARIANTS) -> list[Speaker]:
    """All ``len(ACCENTS) * len(variants)`` speakers, each with its split (variants dealt)."""
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(len(variants))
    n_train = round(SPLIT_FRACTIONS[0] * len(variants))
    n_val = max(1, round(SPLIT_FRACTIONS[1] * len(variants)))
    split_of = {}
    for rank, i in enumerate(order):
        split_of[variants[i]] = (
            "train" if rank < n_train else "validation" if rank < n_train + n_val else "test"
        )
    speakers = []
    for variant in variants:
        for accent in ACCENTS:
            sid = hashlib.sha1(f"{accent}+{variant}".encode()).hexdigest()[:8]
            speakers.append(
                Speaker(
                    sid,
                    accent,
                    variant,
                    int(rng.integers(25, 76)),
                    int(rng.integers(130, 211)),
                    float(rng.uniform(60, 300)),
                    float(rng.uniform(3500, 7500)),
                    split_of[variant],
                )
            )
    return speakers


def plan_clips(
    seed: int,
    per_class: tuple[int, int, int] = (500, 100, 100),
    scheme: str = "digits",
    variants: tuple[str, ...] = VARIANTS,
) -> list[ClipSpec]:
    """The clips of the set: ``per_class[i]`` of each target word and of "unknown" in split i.

    Within a split each word cycles through a fresh shuffle of the split's speakers, so speakers
    say each word about equally often. The order is split, word, then clip; silence is not here
    (the loader cuts it from the noise).
    """
    rng = np.random.default_rng([seed, 2])
    speakers = make_speakers(seed, variants)
    targets = target_words(scheme)
    others = tuple(w for w in GSC_WORDS if w not in targets)
    clips: list[ClipSpec] = []
    for split, count in zip(SPLITS, per_class, strict=True):
        pool = [s for s in speakers if s.split == split]
        if count and not pool:
            raise ValueError(f"no speakers in {split}: give at least 7 variants")
        said: dict[tuple[str, str], int] = {}
        offset = int(rng.integers(len(others)))  # unknown clips cycle through the other words
        for word in (*targets, "unknown"):
            who = [pool[i] for i in _cycled_permutation(rng, len(pool), count)]
            for j, spk in enumerate(who):
                text = others[(offset + j) % len(others)] if word == "unknown" else word
                k = said.get((spk.id, text), 0)
                said[spk.id, text] = k + 1
                clips.append(
                    ClipSpec(
                        f"{text}/{spk.id}_nohash_{k}.wav",
                        text,
                        spk,
                        int(np.clip(spk.pitch + rng.integers(-8, 9), 0, 99)),
                        round(spk.speed * rng.uniform(0.85, 1.15)),
                        float(rng.uniform(-18, 0)),
                        float(rng.random()),
                        NOISE_KINDS[rng.integers(len(NOISE_KINDS))],
                        float(rng.random()),
                        float(rng.uniform(*SNR_DB)),
                    )
                )
    return clips


def _cycled_permutation(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    reps = -(-count // n) if n else 0
    return np.concatenate([rng.permutation(n) for _ in range(reps)])[:count] if reps else []


def _require_espeak() -> str:
    exe = shutil.which(ESPEAK)
    if exe is None:
        raise SpeechDataError(
            "espeak-ng not found: install it (`apt-get install espeak-ng`) to synthesise the "
            "speech set; the committed features in data/embedded/ need no system package"
        )
    return exe


def espeak_version() -> str:
    """The installed espeak-ng's version, e.g. ``"1.51"``."""
    out = subprocess.run([_require_espeak(), "--version"], capture_output=True, text=True)
    found = re.search(r"speech:\s*(\S+)", out.stdout)
    return found.group(1) if found else out.stdout.strip()


def synthesize(text: str, voice: str, speed: int = 175, pitch: int = 50) -> np.ndarray:
    """Speak ``text`` with espeak-ng; float32 16 kHz audio, silence at both ends trimmed.

    ``voice`` is ``"accent"`` or ``"accent+variant"``. Resampling 22050 -> 16000 Hz is
    ``scipy.signal.resample_poly`` (320/441), exact and the same on every machine.
    """
    cmd = [_require_espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text]
    run = subprocess.run(cmd, capture_output=True, check=False)
    if run.returncode != 0 or len(run.stdout) < 100:
        raise SpeechDataError(
            f"espeak-ng failed for voice {voice!r}, text {text!r}: "
            f"{run.stderr.decode(errors='replace').strip() or 'no audio'}"
        )
    sr, pcm = parse_wav_bytes(run.stdout)
    x = pcm.astype(np.float64) / 32768.0
    loud = np.flatnonzero(np.abs(x) > 0.01 * np.abs(x).max())
    pad = sr // 100  # keep 10 ms around the word: onsets and releases matter
    x = x[max(0, loud[0] - pad) : loud[-1] + pad]
    if sr != ESPEAK_RATE:
        raise SpeechDataError(f"espeak-ng wrote {sr} Hz, expected {ESPEAK_RATE} Hz")
    return scipy.signal.resample_poly(x, 320, 441).astype(np.float32)


def noise_bank(seed: int, seconds: int = NOISE_SECONDS) -> dict[str, np.ndarray]:
    """The background noises: ``{kind: float32 (seconds * 16000,)}`` at RMS 0.1, int16-exact.

    Babble is espeak-ng's plain accents (no variant, so no speaker of the set) saying GSC words,
    time-reversed so it is speech-like but never a word, four streams overlapped.
    """
    rng = np.random.default_rng([seed, 3])
    n = seconds * SAMPLE_RATE
    freqs = scipy.fft.rfftfreq(n, 1 / SAMPLE_RATE)

    def shaped(exponent: float) -> np.ndarray:  # white noise with power ~ 1/f**exponent
        spec = scipy.fft.rfft(rng.standard_normal(n))
        return scipy.fft.irfft(spec / np.maximum(freqs, 20.0) ** (exponent / 2), n)

    t = np.arange(n) / SAMPLE_RATE
    mains = 50.0 if rng.random() < 0.5 else 60.0
    hum = sum(
        rng.uniform(0.2, 1) / h * np.sin(2 * np.pi * mains * h * t + rng.uniform(0, 6.3))
        for h in range(1, 9)
    ) + 0.02 * rng.standard_normal(n)
    sos = scipy.signal.butter(4, [400, 4000], btype="band", fs=SAMPLE_RATE, output="sos")
    # Running water: band-limited hiss whose loudness wanders slowly (a 3 Hz low-passed walk).
    slow = scipy.signal.butter(2, 3, fs=SAMPLE_RATE, output="sos")
    envelope = 1 + 15 * scipy.signal.sosfilt(slow, rng.standard_normal(n))
    tap = scipy.signal.sosfilt(sos, rng.standard_normal(n)) * np.abs(envelope)
    bank = {
        "white": rng.standard_normal(n),
        "pink": shaped(1.0),
        "brown": shaped(2.0),
        "hum": hum,
        "tap": tap,
        "babble": _babble(rng, n),
    }
    out = {}
    for kind in NOISE_KINDS:
        x = bank[kind] - np.mean(bank[kind])
        x = x * (NOISE_RMS / np.sqrt(np.mean(x**2)))
        out[kind] = (np.clip(np.rint(x * 32768), -32768, 32767) / 32768).astype(np.float32)
    return out


def _babble(rng: np.random.Generator, n: int) -> np.ndarray:
    total = np.zeros(n)
    for _ in range(4):
        parts, length = [], 0
        while length < n:
            accent = ACCENTS[rng.integers(len(ACCENTS))]
            words = " ".join(GSC_WORDS[i] for i in rng.integers(len(GSC_WORDS), size=12))
            x = synthesize(words, accent, int(rng.integers(150, 220)), int(rng.integers(20, 80)))
            parts.append(x[::-1] / (np.abs(x).max() + 1e-9))
            length += len(x)
        stream = np.concatenate(parts)
        total += np.roll(stream[:n], int(rng.integers(n)))
    return total


def render_clip(spec: ClipSpec, bank: dict[str, np.ndarray]) -> np.ndarray:
    """One clip as int16 ``(16000,)``: word, microphone, level, place, background noise."""
    spk = spec.speaker
    word = synthesize(spec.word, f"{spk.accent}+{spk.variant}", spec.speed, spec.pitch)
    sos = scipy.signal.butter(
        2, [spk.low_hz, spk.high_hz], btype="band", fs=SAMPLE_RATE, output="sos"
    )
    word = scipy.signal.sosfilt(sos, word.astype(np.float64))
    word *= 0.9 * 10 ** (spec.gain_db / 20) / (np.abs(word).max() + 1e-12)
    # Up to 5 % of the word may fall off either edge, as in real one-second recordings.
    room = SAMPLE_RATE - len(word) + len(word) // 10
    start = int(spec.place * room) - len(word) // 20
    clip = np.zeros(SAMPLE_RATE)
    lo, hi = max(0, start), min(SAMPLE_RATE, start + len(word))
    if hi > lo:
        clip[lo:hi] = word[lo - start : hi - start]
    noise = bank[spec.noise]
    region_lo, region_hi = (int(f * len(noise)) for f in NOISE_REGIONS[spk.split])
    pos = region_lo + int(spec.noise_pos * max(0, region_hi - region_lo - SAMPLE_RATE))
    seg = noise[pos : pos + SAMPLE_RATE].astype(np.float64)
    p_word = np.mean(word**2)
    clip += seg * np.sqrt(p_word / (np.mean(seg**2) * 10 ** (spec.snr_db / 10)))
    return np.clip(np.rint(clip * 32768), -32768, 32767).astype(np.int16)


def write_gsc_layout(
    out: str | Path,
    clips: list[ClipSpec],
    bank: dict[str, np.ndarray],
    jobs: int = 2,
    progress: bool = True,
) -> None:
    """Render ``clips`` into ``out`` in the GSC layout (word folders, lists, background noise)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _require_espeak()
    for kind, x in bank.items():
        write_wav(out / NOISE_DIR / f"{kind}.wav", x)

    def one(spec: ClipSpec) -> None:
        write_wav(out / spec.name, render_clip(spec, bank))

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        done = pool.map(one, clips)
        if progress:
            from tqdm import tqdm

            done = tqdm(done, total=len(clips), desc="synthesising", unit="clip")
        for _ in done:
            pass
    for split, fname in LIST_FILES.items():
        names = sorted(c.name for c in clips if c.speaker.split == split)
        (out / fname).write_text("".join(f"{n}\n" for n in names))
    voices = sorted(
        {(c.speaker.id, c.speaker.accent, c.speaker.variant, c.speaker.split) for c in clips}
    )
    (out / "voices.csv").write_text(
        "speaker,accent,variant,split\n" + "".join(",".join(v) + "\n" for v in voices)
    )
    (out / "README.txt").write_text(
        "Synthetic speech (espeak-ng), NOT Google Speech Commands; written in its layout by "
        "`python -m compsparse make-speech`. See data/embedded/README.md in compsparse.\n"
    )
