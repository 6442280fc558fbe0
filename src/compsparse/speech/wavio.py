"""Reading and writing GSC clips (16 kHz, mono, 16-bit PCM wav), with errors that name the file.

Book: chapter "Speech data".
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import scipy.io.wavfile

from .features import SAMPLE_RATE

__all__ = ["SpeechDataError", "parse_wav_bytes", "read_wav", "write_wav"]


class SpeechDataError(ValueError):
    """A speech file or folder is missing or not what the loader expects."""


def read_wav(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """One GSC clip as float32 in [-1, 1), shape ``(n_samples,)``.

    Raises:
        SpeechDataError: the file is missing, empty, unreadable, not 16-bit PCM, not mono, or not
            at ``sample_rate`` Hz. The message names the file and what was found.
    """
    path = Path(path)
    if not path.is_file():
        raise SpeechDataError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise SpeechDataError(f"{path}: empty file (0 bytes), expected a 16-bit mono wav")
    try:
        with warnings.catch_warnings():
            # scipy warns about unknown chunks (e.g. LIST metadata); those files are fine.
            warnings.simplefilter("ignore", scipy.io.wavfile.WavFileWarning)
            sr, data = scipy.io.wavfile.read(path)
    except Exception as exc:  # scipy raises ValueError, EOFError, even UnboundLocalError
        raise SpeechDataError(f"{path}: not a readable wav file ({exc})") from None
    if data.ndim != 1:
        raise SpeechDataError(
            f"{path}: {data.shape[1]} channels, expected mono (GSC clips are 16 kHz mono)"
        )
    if sr != sample_rate:
        raise SpeechDataError(
            f"{path}: sample rate {sr} Hz, expected {sample_rate} Hz; resample it first "
            f"(e.g. `sox in.wav -r {sample_rate} out.wav`)"
        )
    if data.dtype != np.int16:
        raise SpeechDataError(f"{path}: samples are {data.dtype}, expected 16-bit PCM (int16)")
    if data.size == 0:
        raise SpeechDataError(f"{path}: no audio samples")
    return data.astype(np.float32) / np.float32(32768.0)


def write_wav(path: str | Path, x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono audio as 16-bit PCM; float input in [-1, 1) is scaled, int16 written as is."""
    x = np.asarray(x)
    if x.dtype != np.int16:
        x = np.clip(np.rint(x * 32768.0), -32768, 32767).astype(np.int16)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    scipy.io.wavfile.write(path, sample_rate, x)


def parse_wav_bytes(data: bytes) -> tuple[int, np.ndarray]:
    """Sample rate and int16 samples of a 16-bit mono wav held in memory.

    espeak-ng's ``--stdout`` writes a streaming header whose sizes are placeholders, which
    scipy rejects, so this reads the chunks itself and takes everything after ``data``.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechDataError("synthesiser output is not a RIFF/WAVE stream")
    pos, sr = 12, None
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if tag == b"fmt ":
            fmt, channels, sr, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
            if fmt != 1 or channels != 1 or bits != 16:
                raise SpeechDataError(
                    f"synthesiser wrote format {fmt}, {channels} channels, {bits} bits; "
                    "expected 16-bit mono PCM"
                )
        elif tag == b"data":
            if sr is None:
                raise SpeechDataError("wav stream has no fmt chunk before its data")
            pcm = data[body:]
            pcm = pcm[: len(pcm) - len(pcm) % 2]
            return sr, np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        pos = body + size + (size & 1)
    raise SpeechDataError("wav stream has no data chunk")
