"""The GSC download helper: safe extraction on archives made here (never the network)."""

from __future__ import annotations

import io
import tarfile

import pytest

from compsparse.speech import ARCHIVES, SpeechDataError, download, safe_extract


def make_tar(path, members):
    """``members``: (name, bytes) for files, (name, None, linkname) for symlinks."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data, *link in members:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link[0]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_safe_extract_writes_a_gsc_like_archive(tmp_path):
    tar = make_tar(
        tmp_path / "ok.tar.gz",
        [("./zero/a_nohash_0.wav", b"RIFF"), ("testing_list.txt", b"zero/a_nohash_0.wav\n")],
    )
    assert safe_extract(tar, tmp_path / "out") == 2
    assert (tmp_path / "out" / "zero" / "a_nohash_0.wav").read_bytes() == b"RIFF"


@pytest.mark.parametrize(
    "member, why",
    [
        (("../escape.txt", b"x"), "outside"),
        (("zero/../../escape.txt", b"x"), "outside"),
        (("/tmp/abs_escape.txt", b"x"), "outside"),
        (("zero/link", None, "/etc/passwd"), "link or special"),
    ],
)
def test_safe_extract_refuses_escapes_before_writing_anything(tmp_path, member, why):
    tar = make_tar(tmp_path / "bad.tar.gz", [("zero/good.wav", b"ok"), member])
    with pytest.raises(SpeechDataError, match=why):
        safe_extract(tar, tmp_path / "out")
    assert not (tmp_path / "out").exists()  # all members are checked first
    assert not (tmp_path / "escape.txt").exists()


def test_archives_are_described_and_bad_versions_refused(tmp_path):
    for version, archive in ARCHIVES.items():
        assert archive.url.startswith("https://") and version in archive.url
        assert archive.size > 1e9 and len(archive.sha256) == 64
    with pytest.raises(ValueError, match="unknown GSC version"):
        download(tmp_path, version="v9")
