"""Progress for long work: one mechanism (tqdm) for the reproduction, sweeps and benchmarks.

On a terminal, a tqdm bar; in a log (stderr not a TTY), one plain line at most every
``log_every`` seconds and at the end, no carriage returns. The first line appears at once
(``compiling…``), and the bar starts after the first update, so its rate and ETA exclude
compilation. ``quiet=True`` prints nothing.
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


class Progress:
    """``with Progress(total, "training", unit="steps") as p: ... p.update_to(n)``."""

    def __init__(
        self,
        total: int,
        desc: str,
        *,
        unit: str = "it",
        quiet: bool = False,
        log_every: float = 10.0,
        stream=None,
    ):
        self.total, self.desc, self.unit, self.quiet = total, desc, unit, quiet
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every
        self.n = 0
        self._bar = None
        self._start = self._first_t = time.perf_counter()
        self._first_n = 0
        self._last_log = 0.0

    def __enter__(self) -> Progress:
        self.note(f"{self.desc}: compiling and starting ({self.total} {self.unit}) …")
        return self

    def note(self, text: str) -> None:
        """A message line, kept clear of the bar."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)

    def update_to(self, n: int) -> None:
        """Sets the count done to ``n``."""
        if n <= self.n:
            return
        first = self.n == 0
        self.n = n
        now = time.perf_counter()
        if first:  # compilation is over: rates and ETAs count from here
            self._first_t, self._first_n = now, n
            self.note(
                f"{self.desc}: first {n} {self.unit} (with compilation) in "
                f"{now - self._start:.1f} s"
            )
        if self.quiet:
            return
        if self.tty:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(
                    total=self.total,
                    initial=n,
                    desc=self.desc,
                    unit=f" {self.unit}",
                    file=self.stream,
                    dynamic_ncols=True,
                    leave=True,
                )
            else:
                self._bar.update(n - self._bar.n)
        elif n >= self.total or now - self._last_log >= self.log_every:
            self._last_log = now
            print(self._line(now), file=self.stream, flush=True)

    def _line(self, now: float) -> str:
        elapsed = now - self._start
        done = self.n - self._first_n
        rate = done / (now - self._first_t) if now > self._first_t and done else float("nan")
        eta = (self.total - self.n) / rate if rate == rate and rate > 0 else float("nan")
        pct = 100 * self.n / max(self.total, 1)
        return f"{self.desc}: {self.n}/{self.total} {self.unit} ({pct:.0f}%), {elapsed:.1f} s" + (
            f", eta {eta:.0f} s" if eta == eta else ""
        )

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()
        elif not self.quiet and not self.tty and self.n < self.total and self.n:
            print(self._line(time.perf_counter()) + " (stopped)", file=self.stream, flush=True)
