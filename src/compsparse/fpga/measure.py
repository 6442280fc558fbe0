"""Throughput as the paper defines it, and the power reading beside it.

The paper reports words per second: one-second speech clips ("words") classified per second,
for one network instance (its Table 2) and for as many instances as fit the chip (Table 3), and
words per second per watt (Table 4). :func:`measure` times a design the same way on every
backend: a warm-up, then several timed repeats of one batch of ``n_words`` clips split over the
instances; each repeat is timed from the first start to the last finish with the inputs already
in device memory (the kernel's throughput), and separately with the transfers to and from the
device included (end to end). It reports the median and the spread (quartiles, min, max).

Power comes from the board when it can be read (a :class:`PowerMeter` sampled in a thread
during the timed repeats; median of the samples), otherwise from the board's rated figure,
labelled ``rated``; C simulation has none.

Book: chapter "FPGA runs" (book/11_fpga_runs.ipynb).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = ["PowerMeter", "PowerReading", "Throughput", "measure", "sample_power"]


@dataclass(frozen=True)
class PowerReading:
    """Power during a measurement.

    Attributes:
        watts: the median reading (or the fixed figure); ``None`` when there is none.
        kind: ``"measured"``, ``"rated"`` (the board's rating), ``"assumed"`` (a figure taken
            from elsewhere, e.g. the paper's) or ``"none"``.
        source: what was read, e.g. ``"PYNQ rails (sum of 9 regulator outputs)"``.
        samples: readings taken.
    """

    watts: float | None
    kind: str
    source: str
    samples: int = 0


class PowerMeter:
    """A power reading: ``read()`` returns watts; ``source`` says what is read."""

    source = "unknown"

    def read(self) -> float:
        raise NotImplementedError


def sample_power(
    meter: PowerMeter | None,
    rated_w: float | None,
    rated_source: str,
    interval_s: float = 0.1,
    rated_kind: str = "rated",
):
    """A context manager sampling ``meter`` in a thread; ``.result`` holds the PowerReading.

    Falls back to ``rated_w`` (of kind ``rated_kind``: ``"rated"`` or ``"assumed"``) when there
    is no meter or it fails.
    """
    return _Sampler(meter, rated_w, rated_source, interval_s, rated_kind)


class _Sampler:
    def __init__(self, meter, rated_w, rated_source, interval_s, rated_kind="rated"):
        self.meter, self.rated_w, self.rated_source = meter, rated_w, rated_source
        self.rated_kind = rated_kind
        self.interval_s = interval_s
        self.samples: list[float] = []
        self.error: str | None = None
        self.result: PowerReading | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _read(self) -> None:
        try:
            self.samples.append(float(self.meter.read()))
        except Exception as exc:  # a sensor that fails must not break the measurement
            self.error = f"{type(exc).__name__}: {exc}"
            self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._read()

    def __enter__(self):
        if self.meter is not None:
            self._read()
            if self.error is None:
                self._thread = threading.Thread(target=self._loop, daemon=True)
                self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._read()
        good = [s for s in self.samples if np.isfinite(s) and s > 0]
        if self.meter is not None and good and self.error is None:
            self.result = PowerReading(
                float(np.median(good)), "measured", self.meter.source, len(good)
            )
        elif self.rated_w is not None:
            why = ""
            if self.meter is not None:
                why = f" (reading {self.meter.source} failed: {self.error or 'no valid sample'})"
            self.result = PowerReading(
                float(self.rated_w), self.rated_kind, self.rated_source + why
            )
        else:
            self.result = PowerReading(None, "none", self.rated_source)
        return False


@dataclass
class Throughput:
    """One throughput measurement (see the module docstring). Rates in words per second."""

    n_words: int
    n_instances: int
    repeats: int
    warmup: int
    seconds: list[float]
    seconds_end_to_end: list[float]
    words_per_s: float
    words_per_s_p25: float
    words_per_s_p75: float
    words_per_s_min: float
    words_per_s_max: float
    words_per_s_end_to_end: float
    power: PowerReading
    checked_words: int = 0
    mismatches: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def words_per_s_per_w(self) -> float | None:
        """Median words/s divided by the power (measured or rated); None without power."""
        return self.words_per_s / self.power.watts if self.power.watts else None

    def as_dict(self) -> dict:
        d = asdict(self)
        d["power"] = asdict(self.power)
        d["words_per_s_per_w"] = self.words_per_s_per_w
        return d


def measure(
    execute: Callable[[], None],
    round_trip: Callable[[], None],
    n_words: int,
    n_instances: int,
    repeats: int = 5,
    warmup: int = 1,
    power=None,
    clock: Callable[[], float] = time.perf_counter,
) -> Throughput:
    """Time ``execute`` (one batch, inputs already on the device) and ``round_trip`` (the same
    with transfers) ``repeats`` times after ``warmup`` runs.

    Args:
        execute: starts every instance on its share of the batch and waits for all.
        round_trip: copies inputs to the device, executes, copies logits back.
        n_words: clips in the batch (all instances together).
        power: a context manager from :func:`sample_power` (or ``None``: no power).
    """
    if repeats < 1 or warmup < 0 or n_words < 1:
        raise ValueError(
            f"need repeats >= 1, warmup >= 0, n_words >= 1; got {repeats}, {warmup}, {n_words}"
        )
    for _ in range(warmup):
        execute()
    seconds, e2e = [], []
    sampler = power if power is not None else sample_power(None, None, "not measured")
    with sampler:
        for _ in range(repeats):
            t0 = clock()
            execute()
            seconds.append(max(clock() - t0, 1e-9))
        for _ in range(repeats):
            t0 = clock()
            round_trip()
            e2e.append(max(clock() - t0, 1e-9))
    rates = n_words / np.asarray(seconds)
    return Throughput(
        n_words=n_words,
        n_instances=n_instances,
        repeats=repeats,
        warmup=warmup,
        seconds=[float(s) for s in seconds],
        seconds_end_to_end=[float(s) for s in e2e],
        words_per_s=float(np.median(rates)),
        words_per_s_p25=float(np.percentile(rates, 25)),
        words_per_s_p75=float(np.percentile(rates, 75)),
        words_per_s_min=float(rates.min()),
        words_per_s_max=float(rates.max()),
        words_per_s_end_to_end=float(np.median(n_words / np.asarray(e2e))),
        power=sampler.result,
    )
