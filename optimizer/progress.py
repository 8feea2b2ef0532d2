"""Progress of the long commands (plan, report, frontier, scenarios, monitor, forecast) on stderr.

One :class:`Progress` per command run.  It is the ``progress`` callback the
workflows already take (a callable of one message): each message becomes one line
with the command, the time since the command started and, once a solve has named
them, the exact expected profit of the best plan found and the best bound::

    plan    0.6s  LP round 1: relaxation 96,328.63, sales over-estimate 740.43, 0.0s  [best 95,213.06, bound 96,328.63]

While the command works without news, a heartbeat line says what it is doing (the
report's notebook cell, the frontier point done, the last stage of a solve), so no two
lines are more than :data:`HEARTBEAT_S` (+ a poll) apart.  The first heartbeat comes
after that long too: a command done within seconds prints only its own lines.

On a terminal the same news is one live tqdm status bar (stage lines printed above
it); anywhere else (CI, pipes, files) plain lines, one per message or heartbeat.

The library reports through :mod:`logging` (``logging.getLogger(__name__)`` in each
module) and is silent unless asked.  While a :class:`Progress` is open it is the
display of the package's ``optimizer`` logger: each INFO or higher record becomes one of
its lines (:class:`ProgressHandler`), so the command line and a notebook install the
same display with ``with Progress(...)``.

Best plan and bound are read from the solve pipeline's stage lines
(:mod:`optimizer.solve.pipeline`: "… plan 95,213.06", "MIP round 1: plan … (exact X),
bound Y", "LP round 1: relaxation X", "shipment bound X"): the best is the largest
exact profit named (the pipeline keeps the best plan by exact profit), the bound the
smallest bound (the pipeline reports the smallest valid one).  A line in another
form is printed as it is, without changing them.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

HEARTBEAT_S = 4.0  # at most this long without a line (plus POLL_S)
POLL_S = 0.25
LIVE_REFRESH_S = 0.5

_NUM = r"(-?\d[\d,]*(?:\.\d+)?)"
_PLAN = re.compile(r"\bplan " + _NUM + r"(?: \(exact " + _NUM + r"\))?")
_BOUND = re.compile(r"\b(?:bound|relaxation) " + _NUM)
_STAGE = re.compile(r"^(.*?)(?::|,| -?\d[\d,]*\.\d)")


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _is_terminal(stream) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):  # a closed or foreign stream
        return False


def stage_of(message: str) -> str:
    """The stage a pipeline message is about: ``"LP round 2"``, ``"shipment bound"``, …"""
    m = _STAGE.match(message)
    stage = (m.group(1) if m else message).strip()
    return (stage or message.strip())[:60]


class Progress:
    """The progress lines of one command (a context manager: ``with Progress("plan") as say:``).

    ``say(msg)`` prints a stage line; :meth:`status` sets what a heartbeat says the
    command is doing (and, for a counted command, how far it is); :meth:`step` prints
    the line of one finished point or task, counts it and forgets the point's best
    plan and bound.  ``live`` (default: whether ``stream`` is a terminal) draws a
    tqdm bar instead of heartbeat lines.
    """

    def __init__(self, command: str, *, stream=None, every: float = HEARTBEAT_S,
                 total: int | None = None, live: bool | None = None):
        self.command = command
        self.stream = sys.stderr if stream is None else stream
        self.every = every
        self.live = _is_terminal(self.stream) if live is None else live
        self.total = total
        self.done = 0
        self.best: float | None = None
        self.bound: float | None = None
        self.activity = "working"
        self.stage = ""  # the last stage line's stage, while the activity lasts
        self._lock = threading.RLock()
        self._t0 = self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar = None
        self._handler: ProgressHandler | None = None

    # ------------------------------------------------------------- callbacks
    def __call__(self, message: str) -> None:
        self.say(message)

    def say(self, message: str) -> None:
        """One stage line; a solve's line also updates the best plan, the bound and the activity."""
        message = " ".join(str(message).split())
        with self._lock:
            self._track(message)
            self._emit(message)

    def status(self, activity: str, *, done: int | None = None, total: int | None = None) -> None:
        """What the command is doing now (no line: the heartbeat or the live bar shows it)."""
        with self._lock:
            if activity != self.activity:
                self.activity, self.stage = activity, ""
            if total is not None:
                self.total = total
            if done is not None:
                self.done = done
            self._update_bar()

    def step(self, message: str) -> None:
        """The line of one finished point or task: counted, and the next point starts afresh."""
        with self._lock:
            self.done += 1
            self.best = self.bound = None
            of = f" of {self.total}" if self.total else ""
            self.activity, self.stage = f"{self.done}{of} done, working on the next", ""
            self._emit(message)

    def doing(self) -> str:
        """What a heartbeat says: the activity and the last stage line's stage."""
        return f"{self.activity}; last stage: {self.stage}" if self.stage else self.activity

    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def line(self, message: str) -> str:
        """``message`` as printed: command, elapsed seconds, message, best and bound."""
        known = [f"{name} {value:,.2f}" for name, value in (("best", self.best), ("bound", self.bound))
                 if value is not None]
        tail = f"  [{', '.join(known)}]" if known else ""
        return f"{self.command} {self.elapsed():6.1f}s  {message}{tail}"

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> Progress:
        self._handler = ProgressHandler(self).install()
        if self.live:
            self._bar = _live_bar(self)
            if self._bar is None:
                self.live = False
        self._thread = threading.Thread(target=self._beat, name=f"{self.command}-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._handler is not None:
            self._handler.remove()
            self._handler = None
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None

    # ------------------------------------------------------------ internals
    def _track(self, message: str) -> None:
        for m in _PLAN.finditer(message):
            value = _number(m.group(2) or m.group(1))  # a MIP's exact profit, not its model value
            self.best = value if self.best is None else max(self.best, value)
        for m in _BOUND.finditer(message):
            value = _number(m.group(1))
            self.bound = value if self.bound is None else min(self.bound, value)
        self.stage = stage_of(message)

    def _emit(self, message: str) -> None:
        text = self.line(message)
        try:
            if self._bar is not None:
                self._bar.write(text, file=self.stream)
                self._update_bar()
            else:
                print(text, file=self.stream, flush=True)
        except (OSError, ValueError):  # the stream went away (a closed pipe): progress is not the work
            pass
        self._last = time.monotonic()

    def _beat(self) -> None:
        tick = LIVE_REFRESH_S if self.live else min(POLL_S, self.every / 4)
        while not self._stop.wait(tick):
            with self._lock:
                if self._bar is not None:
                    self._update_bar()
                elif time.monotonic() - self._last >= self.every:
                    self._emit(self.doing())

    def _update_bar(self) -> None:
        if self._bar is None:
            return
        known = [f"{name} {value:,.2f}" for name, value in (("best", self.best), ("bound", self.bound))
                 if value is not None]
        self._bar.total = self.total
        self._bar.n = self.done
        self._bar.bar_format = _bar_format(self.total)
        self._bar.set_postfix_str("; ".join([self.doing(), *known]), refresh=False)
        self._bar.refresh()


class ProgressHandler(logging.Handler):
    """The package logger's records (INFO and up) as lines of one :class:`Progress`.

    :meth:`install` attaches it to the ``optimizer`` logger (at INFO, not passing the
    records on to the root logger's handlers, so nothing is printed twice);
    :meth:`remove` restores the logger as it was.
    """

    LOGGER = "optimizer"

    def __init__(self, progress: Progress):
        super().__init__(logging.INFO)
        self.progress = progress
        self._saved: tuple[int, bool] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.progress.say(record.getMessage())
        except Exception:  # noqa: BLE001 — a display never stops the work
            self.handleError(record)

    def install(self) -> ProgressHandler:
        logger = logging.getLogger(self.LOGGER)
        self._saved = (logger.level, logger.propagate)
        logger.addHandler(self)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
        logger.propagate = False
        return self

    def remove(self) -> None:
        logger = logging.getLogger(self.LOGGER)
        logger.removeHandler(self)
        if self._saved is not None:
            logger.setLevel(self._saved[0])
            logger.propagate = self._saved[1]
            self._saved = None


def _live_bar(progress: Progress):
    """A tqdm status bar on ``progress.stream``, or None without tqdm (then plain lines)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=progress.total, desc=progress.command, file=progress.stream, leave=False,
                dynamic_ncols=True, mininterval=LIVE_REFRESH_S, bar_format=_bar_format(progress.total))


def _bar_format(total: int | None) -> str:
    counted = "{n_fmt}/{total_fmt} {bar:20} " if total else ""
    return "{desc} " + counted + "{elapsed}{postfix}"


def point_done(progress, message: str) -> None:
    """Report one finished point of a batch: a :class:`Progress` counts it; any other callable hears the line."""
    if isinstance(progress, Progress):
        progress.step(message)
    elif progress is not None:
        progress(message)


def set_status(progress, activity: str, **counts) -> None:
    """:meth:`Progress.status` when ``progress`` is one (a plain callback has no status)."""
    if isinstance(progress, Progress):
        progress.status(activity, **counts)


# ------------------------------------------------- lines from another process

PROGRESS_FILE_ENV = "PROMO_OPTIMIZER_PROGRESS"  # the report's kernel appends its stage lines here


def file_progress(path: str | Path | None = None):
    """A progress callback appending each message as a line to ``path``
    (default: the file named by ``$PROMO_OPTIMIZER_PROGRESS``; none: silent)."""
    path = path or os.environ.get(PROGRESS_FILE_ENV)
    if not path:
        return lambda message: None

    def say(message: str) -> None:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(" ".join(str(message).split()) + "\n")
        except OSError:  # the command that reads it is gone: progress is not the work
            pass
    return say


@contextmanager
def follow(path: str | Path, say):
    """While the block runs, hand each complete line appended to ``path`` to ``say``."""
    path = Path(path)
    stop = threading.Event()
    offset = 0

    def read_new() -> None:
        nonlocal offset
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except OSError:
            return
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for its newline
        offset += end
        for raw in chunk[:end].splitlines():
            if raw.strip():
                say(raw.decode("utf-8", "replace"))

    def loop() -> None:
        while not stop.wait(POLL_S):
            read_new()

    thread = threading.Thread(target=loop, name="progress-follow", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)
        read_new()


__all__ = ["HEARTBEAT_S", "PROGRESS_FILE_ENV", "Progress", "ProgressHandler", "file_progress", "follow", "point_done",
           "set_status", "stage_of"]
