"""The pinned environments agree: pyproject.toml, constraints.txt and Binder's environment.yml."""

from __future__ import annotations

import re

import pytest
import rattler
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

# Runtime extras a Binder reader needs; fpga and test are not part of the Binder image.
BINDER_EXTRAS = ("train", "fast", "book")
# conda-forge names of PyPI packages where they differ
CONDA_NAMES = {"torch": "pytorch"}


@pytest.fixture(scope="module")
def pyproject(root):
    return tomllib.loads((root / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def locked(root) -> dict[str, Version]:
    pins = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", f"constraints.txt must pin exactly: {line}"
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


@pytest.fixture(scope="module")
def binder(root) -> dict:
    env = yaml.safe_load((root / "environment.yml").read_text())
    assert set(env) <= {"name", "channels", "dependencies", "variables", "prefix"}
    assert env["channels"] == ["conda-forge"]
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for line in dep["pip"]:
                if not line.startswith("--"):
                    req = Requirement(line)
                    pip[canonicalize_name(req.name)] = req
        else:
            spec = rattler.MatchSpec(dep)  # raises on a malformed conda spec
            conda[spec.name.normalized] = dep
    return {"conda": conda, "pip": pip}


def _runtime_requirements(pyproject) -> list[Requirement]:
    reqs = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    extras = pyproject["project"]["optional-dependencies"]
    for extra in BINDER_EXTRAS:
        reqs += [Requirement(r) for r in extras[extra] if not r.startswith("compsparse")]
    return reqs


def test_every_runtime_dependency_is_in_the_binder_environment(pyproject, binder):
    missing = []
    for req in _runtime_requirements(pyproject):
        name = canonicalize_name(req.name)
        if name not in binder["pip"] and CONDA_NAMES.get(name, name) not in binder["conda"]:
            missing.append(req.name)
    assert not missing, f"in pyproject.toml but not in environment.yml: {missing}"


def _conda_version_spec(dep: str) -> str:
    spec = re.split(r"[\s=<>!]", dep, maxsplit=1)[0]
    return dep[len(spec) :].strip()


def test_pins_do_not_conflict(pyproject, binder, locked):
    """The locked version of every package satisfies both pyproject.toml and environment.yml."""
    for req in _runtime_requirements(pyproject):
        name = canonicalize_name(req.name)
        version = locked[name]
        assert req.specifier.contains(version, prereleases=True), (
            f"constraints.txt {name}=={version} vs {req}"
        )
        if name in binder["pip"]:
            binder_req = binder["pip"][name]
            base = Version(version.base_version)  # torch==2.13.0 accepts the +cpu local build
            assert binder_req.specifier.contains(base, prereleases=True), (
                f"{name}: {binder_req} vs {version}"
            )
        else:
            spec = _conda_version_spec(binder["conda"][CONDA_NAMES.get(name, name)])
            if spec:
                ok = rattler.VersionSpec(spec).matches(rattler.Version(str(version.base_version)))
                assert ok, f"environment.yml {name}{spec} excludes the locked {version}"


def test_binder_python_and_postbuild(root, binder):
    assert binder["conda"]["python"] == "python=3.11"
    post = (root / "postBuild").read_text()
    assert "pip install" in post and "-e ." in post
    assert not (root / "binder").exists() and not (root / ".binder").exists(), (
        "a binder/ folder makes repo2docker ignore the root environment.yml"
    )


def test_jupyter_book_stays_below_2(pyproject, binder, locked):
    assert locked["jupyter-book"] < Version("2")
    assert not binder["pip"]["jupyter-book"].specifier.contains("2.0.0")


def test_core_dependencies_are_numpy_only(pyproject):
    assert [Requirement(r).name for r in pyproject["project"]["dependencies"]] == ["numpy"]
