"""The command line: ``python -m compsparse COMMAND [options]`` (also installed as ``compsparse``).

Each command lives in its own module with ``add_arguments(parser)`` and ``run(args) -> int``;
modules are imported only when their command runs, so ``--help`` stays fast and the core
commands work without torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "bench": (
        "compsparse.bench_cpu",
        "time the CPU engine (compsparse.fast) against dense PyTorch, per layer and network",
    ),
    "bench-core": (
        "compsparse.bench_core",
        "time the numpy reference of the five steps at the GSC layer sizes",
    ),
    "evaluate": (
        "compsparse.evaluate",
        "accuracy and measured weight/activation sparsity of a model or checkpoint (JSON)",
    ),
    "export": (
        "compsparse.export",
        "quantise a trained checkpoint to int8 and write the packed model (npz + JSON)",
    ),
    "fpga": (
        "compsparse.fpga.cli",
        "FPGA designs: write a design manifest, run and record throughput, print the model",
    ),
    "figure": ("compsparse.viz.cli", "draw one of the book's figures to a file"),
    "hls-csim": (
        "compsparse.hls_csim",
        "run clips through the HLS C simulation and the numpy integer pipeline; compare bytes",
    ),
    "hls-params": (
        "compsparse.hls_params",
        "write cs_config.h, cs_sort8.h and the parameter blob of a model for the HLS kernels",
    ),
    "make-speech": ("compsparse.speech.cli", "synthesise the embedded speech set with espeak-ng"),
    "strip-notebooks": (
        "compsparse.notebooks",
        "strip outputs and execution counts from notebooks",
    ),
    "sweep": (
        "compsparse.nn.sweep",
        "train recipes x seeds in parallel processes; one JSON line (accuracies) per run",
    ),
    "train": (
        "compsparse.nn.train",
        "train the speech network (dense, sparse-dense or sparse-sparse) with checkpoints",
    ),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: python -m compsparse COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in sorted(COMMANDS.items())]
    lines += ["", "python -m compsparse COMMAND --help shows a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"}:
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"compsparse: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, text = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"python -m compsparse {name}", description=text)
    module.add_arguments(parser)
    return int(module.run(parser.parse_args(rest)) or 0)


if __name__ == "__main__":
    sys.exit(main())
