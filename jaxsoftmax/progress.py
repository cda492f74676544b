"""Progress for long work: one mechanism (tqdm) for the reproduction, sweeps and benchmarks.

On a terminal, a tqdm bar; in a log (stderr not a TTY), one plain line at most every
``log_every`` seconds and at the end, no carriage returns. The first line appears at once
(``compiling…``), and the bar starts after the first update, so its rate and ETA exclude
compilation. ``quiet=True`` prints nothing.

Stopping: :func:`handle_signals` (installed by the command line) makes SIGINT and SIGTERM raise
:class:`Interrupted`. Python runs a signal handler at the next bytecode of the main thread,
which may be inside a garbage-collection callback (JAX registers one), where an exception is
ignored; so the stop is also recorded, and every :meth:`Progress.update_to` raises it again
until the command has taken it (:func:`acknowledge`).
"""

from __future__ import annotations

import signal
import sys
import time

__all__ = ["Interrupted", "Progress", "acknowledge", "check_stop", "handle_signals", "reset_stop"]

_STOP: dict = {"signal": None, "taken": False}


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM while a command runs (exit status 128 + ``signum``); ``kept`` says
    what the command left behind."""

    def __init__(self, signum: int = signal.SIGINT, kept: str = ""):
        super().__init__(signal.Signals(signum).name)
        self.signum, self.kept = int(signum), kept


def _on_signal(signum, frame) -> None:
    if _STOP["taken"]:
        return  # the command is stopping: a second Ctrl-C must not break its clean-up
    _STOP["signal"] = signum
    raise Interrupted(signum)


def _unraisable(hook):
    def unraisable(info) -> None:
        # A signal's KeyboardInterrupt lost in a callback: not a traceback for the user
        # (check_stop raises an Interrupted again; a sweep stops after its chunk).
        if not isinstance(info.exc_value, KeyboardInterrupt):
            hook(info)

    return unraisable


def handle_signals() -> None:
    """SIGINT and SIGTERM raise :class:`Interrupted`; a KeyboardInterrupt lost where Python
    ignores exceptions (a gc callback) is not printed, and is raised again by
    :func:`check_stop`.
    For the command line's entry point only: importing jaxsoftmax changes no handler."""
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, _on_signal)
    if not getattr(sys.unraisablehook, "_jaxsoftmax", False):
        hook = _unraisable(sys.unraisablehook)
        hook._jaxsoftmax = True  # type: ignore[attr-defined]
        sys.unraisablehook = hook


def check_stop() -> None:
    """Raises :class:`Interrupted` if a signal arrived and the command has not taken it."""
    if _STOP["signal"] is not None and not _STOP["taken"]:
        raise Interrupted(_STOP["signal"])


def reset_stop() -> None:
    """Forgets a stop (a new command in the same process starts with none)."""
    _STOP.update(signal=None, taken=False)


def acknowledge(signum: int | None = None) -> int | None:
    """The command has taken the stop (later signals are ignored while it cleans up); returns
    the signal that arrived (``signum`` where none was recorded, e.g. a plain
    KeyboardInterrupt)."""
    _STOP["taken"] = True
    if _STOP["signal"] is None:
        _STOP["signal"] = signum
    return _STOP["signal"]


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
        """Sets the count done to ``n`` (and raises a stop requested by a signal)."""
        check_stop()
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
