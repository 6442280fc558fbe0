"""Fetching the real Google Speech Commands (for readers with internet; never run by tests).

Book: chapter "Speech data".

``download("data/gsc")`` fetches the archive (resuming a partial download with an HTTP Range
request), checks its size and sha256, and unpacks it with :func:`safe_extract`, which refuses
any member that would land outside the target folder. Then ``load_split("data/gsc/...")`` (or
``COMPSPARSE_SPEECH=data/gsc/...``) uses it. GSC is by Pete Warden, Google, CC BY 4.0.
"""

from __future__ import annotations

import hashlib
import tarfile
import urllib.request
from pathlib import Path
from typing import NamedTuple

from .wavio import SpeechDataError

__all__ = ["ARCHIVES", "Archive", "download", "safe_extract"]


class Archive(NamedTuple):
    url: str
    size: int  # bytes
    sha256: str


# Python >= 3.11.4 can also vet members itself; use it when present (belt and braces).
_DATA_FILTER = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
_BASE = "https://storage.googleapis.com/download.tensorflow.org/data/"
ARCHIVES = {
    # The authors used v0.01 (digits only). Sizes and digests as published by the mirrors that
    # torchaudio and others verify against.
    "v0.01": Archive(
        _BASE + "speech_commands_v0.01.tar.gz",
        1_489_096_277,
        "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    ),
    "v0.02": Archive(
        _BASE + "speech_commands_v0.02.tar.gz",
        2_428_923_189,
        "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
    ),
}


def download(dest: str | Path = "data/gsc", version: str = "v0.01", progress: bool = True) -> Path:
    """Download, verify and unpack GSC ``version`` under ``dest``; returns the unpacked folder.

    A partial ``.tar.gz`` in ``dest`` is resumed; a complete, verified one is not fetched again.
    """
    if version not in ARCHIVES:
        raise ValueError(f"unknown GSC version {version!r}: use one of {sorted(ARCHIVES)}")
    archive = ARCHIVES[version]
    dest = Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / archive.url.rsplit("/", 1)[1]
    target = dest / f"speech_commands_{version}"
    if (target / "testing_list.txt").is_file():
        return target
    _fetch(archive, path, progress)
    digest = _sha256(path)
    if digest != archive.sha256:
        raise SpeechDataError(
            f"{path}: sha256 {digest} does not match the published {archive.sha256}; "
            "delete the file and download again"
        )
    safe_extract(path, target)
    return target


def _fetch(archive: Archive, path: Path, progress: bool) -> None:
    have = path.stat().st_size if path.exists() else 0
    if have == archive.size:
        return
    if have > archive.size:  # not ours, or corrupt: start over
        path.unlink()
        have = 0
    request = urllib.request.Request(archive.url, headers={"Range": f"bytes={have}-"})
    with urllib.request.urlopen(request, timeout=60) as response:
        if response.status != 206:  # the server ignored the range: restart from zero
            have = 0
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=archive.size, initial=have, unit="B", unit_scale=True, desc=path.name)
        with open(path, "ab" if have else "wb") as f:
            while chunk := response.read(1 << 20):
                f.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        if bar is not None:
            bar.close()
    if path.stat().st_size != archive.size:
        raise SpeechDataError(
            f"{path}: {path.stat().st_size} bytes, expected {archive.size}; "
            "run download() again to resume"
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def safe_extract(tar_path: str | Path, target: str | Path) -> int:
    """Unpack a tar archive into ``target``; returns the number of files written.

    Every member is checked before anything is written: absolute paths, ``..`` that climbs out
    of ``target``, links, and device or fifo entries raise :class:`SpeechDataError` naming the
    member (a GSC archive has none of them).
    """
    target = Path(target).resolve()
    with tarfile.open(tar_path) as tar:
        members = tar.getmembers()
        for m in members:
            where = (target / m.name).resolve()
            if Path(m.name).is_absolute() or not where.is_relative_to(target):
                raise SpeechDataError(
                    f"{tar_path}: member {m.name!r} would be written outside {target}; refusing"
                )
            if not (m.isfile() or m.isdir()):
                raise SpeechDataError(
                    f"{tar_path}: member {m.name!r} is a link or special file; refusing"
                )
        target.mkdir(parents=True, exist_ok=True)
        for m in members:
            # Only plain files and folders get here; drop owners and odd permission bits.
            m.mode = 0o755 if m.isdir() else 0o644
            m.uid = m.gid = 0
            m.uname = m.gname = ""
            tar.extract(m, target, set_attrs=False, **_DATA_FILTER)
        return sum(m.isfile() for m in members)
