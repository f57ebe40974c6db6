"""Run a backtest, or read a strategy script's declarations, in a fresh spawned process.

Why a process: the backtester is CPU-bound Python; in a thread it would hold the GIL and stall the
UI loop. Why "spawn": the terminal is a Qt process, and forking one is unsafe. Why a fresh process
per task: a user script that hangs (at import or in a callback) can then be killed, which a thread
or a pool worker cannot be.

The child reports on a multiprocessing Queue: ("progress", fraction) at most once per percent, then
("result", value) or ("error", text). cancel() sets a multiprocessing Event that the backtester checks
about a hundred times a run (it then returns a CANCELLED result with what it replayed so far); a child
that has not finished `grace_s` seconds after cancel() is terminated (a script stuck in a callback).
The caller polls; nothing here blocks.
"""
from __future__ import annotations

import functools
import math
import multiprocessing
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.domain import Instrument
from core.strategy import Param, load_strategy_class

from .engine import CancelFlag, run_backtest
from .results import BacktestResult


class TaskFunction(Protocol):
    def __call__(self, *, progress: Callable[[float], None], cancel: CancelFlag) -> Any: ...


@dataclass(frozen=True)
class BacktestJob:
    """Everything one backtest needs, in picklable form (the strategy as a path, never a class)."""

    strategy_path: str
    params: dict[str, Any]
    instruments: Sequence[Instrument]
    data: object
    class_name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # Backtester keyword arguments


@dataclass(frozen=True)
class StrategyInfo:
    """What a script declares: its class, parameters, instruments and timeframes."""

    class_name: str
    doc: str
    params: dict[str, Param[Any]]
    instruments: tuple[str, ...]
    underlyings: tuple[str, ...]
    timeframes: tuple[str, ...]


def run_job(job: BacktestJob, *, progress: Callable[[float], None], cancel: CancelFlag) -> BacktestResult:
    """Run one backtest job (the function a task process calls)."""
    return run_backtest(job.strategy_path, job.params, job.instruments, job.data, class_name=job.class_name,
                        progress=progress, cancel=cancel, **job.options)


def describe_strategy(path: str, class_name: str | None = None, *, progress: Callable[[float], None],
                      cancel: CancelFlag) -> StrategyInfo:
    """Import a script and return its declarations (progress and cancel are unused: it is quick or it hangs)."""
    cls = load_strategy_class(Path(path), class_name)
    return StrategyInfo(cls.__name__, (cls.__doc__ or "").strip(), cls.params(), tuple(cls.instruments),
                        tuple(cls.underlyings), tuple(cls.timeframes))


def _child(fn: TaskFunction, messages: Any, cancel: Any) -> None:
    last = -1

    def progress(fraction: float) -> None:
        nonlocal last
        percent = int(fraction * 100)
        if percent != last:
            last = percent
            messages.put(("progress", fraction))

    try:
        result = fn(progress=progress, cancel=cancel)
    except BaseException as exc:  # the user's script: report anything, with its traceback
        messages.put(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
    else:
        messages.put(("result", result))


class ProcessTask:
    """One function run in its own spawned process; poll() collects progress and the outcome."""

    def __init__(self, fn: TaskFunction, grace_s: float = 3.0) -> None:
        context = multiprocessing.get_context("spawn")
        self._messages = context.Queue()
        self._cancel = context.Event()
        self._process = context.Process(target=_child, args=(fn, self._messages, self._cancel), daemon=True,
                                        name="sq-backtest")
        self.grace_s = grace_s
        self.progress = 0.0
        self.result: Any = None
        self.error = ""
        self.done = False
        self._cancelled_at = math.inf

    @classmethod
    def backtest(cls, job: BacktestJob, grace_s: float = 3.0) -> "ProcessTask":
        return cls(functools.partial(run_job, job), grace_s)

    @classmethod
    def describe(cls, path: str | Path, class_name: str | None = None, grace_s: float = 10.0) -> "ProcessTask":
        return cls(functools.partial(describe_strategy, str(path), class_name), grace_s)

    def start(self) -> "ProcessTask":
        self._process.start()
        return self

    @property
    def cancelling(self) -> bool:
        return self._cancelled_at < math.inf

    def cancel(self) -> None:
        """Ask the run to stop (it returns what it has); terminate it if it has not after grace_s."""
        if not self.done and not self.cancelling:
            self._cancel.set()
            self._cancelled_at = time.monotonic()

    def poll(self) -> bool:
        """Collect what the child sent; return True once the task is done (result or error set)."""
        if self.done:
            return True
        self._drain()
        if self.done:
            self._process.join(timeout=1.0)
            return True
        if not self._process.is_alive():
            self._drain()  # anything sent just before it exited
            if not self.done:
                self._finish(error=f"the backtest process exited unexpectedly (exit code {self._process.exitcode})")
        elif time.monotonic() - self._cancelled_at > self.grace_s:
            self.kill()
            self._finish(error="cancelled: the strategy did not stop, its process was terminated")
        return self.done

    def kill(self) -> None:
        """Terminate the child now (used on cancel timeout and when the panel closes)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=2.0)

    def _drain(self) -> None:
        while not self.done:
            try:
                kind, value = self._messages.get_nowait()
            except queue.Empty:
                return
            if kind == "progress":
                self.progress = float(value)
            elif kind == "result":
                self.progress = 1.0
                self._finish(result=value)
            else:
                self._finish(error=str(value))

    def _finish(self, result: Any = None, error: str = "") -> None:
        self.result, self.error, self.done = result, error, True
