"""Time an agent action and emit its outcome event — as a decorator or a context manager.

    with agent_session(session_id, trace_id):
        with track_action(producer, identity, "lookup_order") as action:
            ...
            action.record(input_tokens=812, output_tokens=95, cost_usd=0.0031)

    @track_action(producer, identity, "answer_question")
    def answer(question):
        current_action().record(quality_score=0.8)

On success the outcome is SUCCESS/INFO; on an exception it is FAILURE/ERROR (TIMEOUT for
TimeoutError, CANCELLED for cancellation or Ctrl-C) with the exception's type and message,
and the exception propagates unchanged.

Given a ``ControlState`` (``control=``), an action of a paused agent or tenant does not
start: ``AgentPaused`` is raised and a CANCELLED outcome, caused by the pause command
(``causation_id``), records the refusal; ``override=True`` acts anyway.
"""

from __future__ import annotations

import asyncio
import contextvars
import copy
import functools
import inspect
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from pipelines.contracts.registry import latest
from pipelines.producer.control import ControlState
from pipelines.producer.events import AgentIdentity, format_timestamp, new_event
from pipelines.producer.exceptions import AgentPaused, NoSessionError, ProducerError
from pipelines.producer.sdk import AgentEventProducer

F = TypeVar("F", bound=Callable[..., Any])
MAX_ERROR_MESSAGE = 4096


@dataclass(frozen=True)
class SessionContext:
    session_id: str
    trace_id: str


_current_session: contextvars.ContextVar[SessionContext | None] = contextvars.ContextVar(
    "afl_agent_session", default=None
)


_current_action: contextvars.ContextVar[track_action | None] = contextvars.ContextVar(
    "afl_agent_action", default=None
)


def current_action() -> track_action:
    """The action being tracked around this code (for decorated functions to record into)."""
    action = _current_action.get()
    if action is None:
        raise ProducerError("no action is being tracked here")
    return action


@contextmanager
def agent_session(session_id: str, trace_id: str | None = None) -> Iterator[SessionContext]:
    """Make a session (and turn trace) current for actions tracked inside the block."""
    ctx = SessionContext(session_id, trace_id or f"trc-{uuid.uuid4().hex[:16]}")
    token = _current_session.set(ctx)
    try:
        yield ctx
    finally:
        _current_session.reset(token)


class track_action:  # lowercase: used as a decorator, like contextlib.contextmanager
    """Context manager and decorator that emits one outcome event per action."""

    def __init__(
        self,
        producer: AgentEventProducer,
        identity: AgentIdentity,
        action_name: str,
        *,
        session_id: str | None = None,
        trace_id: str | None = None,
        turn_id: str | None = None,
        workflow_id: str | None = None,
        correlation_id: str | None = None,
        tags: tuple[str, ...] = (),
        metadata: Mapping[str, str] | None = None,
        control: ControlState | None = None,
        override: bool = False,
    ) -> None:
        self.control = control
        self.override = override
        self.producer = producer
        self.identity = identity
        self.action_name = action_name
        self._session_id = session_id
        self._trace_id = trace_id
        self._base = {
            "turn_id": turn_id,
            "workflow_id": workflow_id,
            "correlation_id": correlation_id,
            "tags": list(tags) or None,
            "metadata": dict(metadata) if metadata else None,
        }
        self._recorded: dict[str, Any] = {}
        self.event: dict[str, Any] | None = None

    # -- as a context manager --------------------------------------------------------

    def __enter__(self) -> track_action:
        current = _current_session.get()
        session_id = self._session_id or (current.session_id if current else None)
        if session_id is None:
            raise NoSessionError(
                f"action {self.action_name!r} has no session: pass session_id= or run it "
                "inside agent_session(...)"
            )
        self.session_id = session_id
        self.trace_id = self._trace_id or (current.trace_id if current else session_id)
        self.action_id = f"act-{uuid.uuid4().hex[:16]}"
        self._started_at = datetime.now(UTC)
        self._t0 = time.perf_counter()
        self._recorded = {}
        pause = (
            None
            if self.control is None or self.override
            else self.control.pause_for(self.identity.agent_name, self.identity.tenant_id)
        )
        if pause is not None:  # refused, and the refusal is on record, caused by the pause
            refusal = AgentPaused(f"{self.identity.agent_name} may not act: {pause.describe()}")
            self._emit(AgentPaused, refusal, causation_id=pause.event_id)
            raise refusal
        self._token = _current_action.set(self)
        return self

    def record(self, **fields: Any) -> None:
        """Add outcome fields measured during the action (tokens, cost, scores, ...)."""
        known = set(latest("outcome").payload_fields)
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ProducerError(f"not outcome fields: {', '.join(unknown)}")
        self._recorded.update(fields)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        _current_action.reset(self._token)
        self._emit(exc_type, exc)
        # returns None: the action's exception, if any, is never swallowed

    def _emit(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        causation_id: str | None = None,
    ) -> None:
        duration_ms = (time.perf_counter() - self._t0) * 1000
        status, severity = _status_for(exc_type)
        payload: dict[str, Any] = {
            "action_id": self.action_id,
            "action_name": self.action_name,
            "status": status,
            "severity": severity,
            "started_at": format_timestamp(self._started_at),
            "ended_at": format_timestamp(datetime.now(UTC)),
            "duration_ms": round(duration_ms, 3),
            **{k: v for k, v in self._base.items() if v is not None},
            **self._recorded,
        }
        if exc_type is not None:
            payload["error_type"] = _qualified_name(exc_type)
            payload["error_message"] = str(exc)[:MAX_ERROR_MESSAGE] if exc else ""
        input_tokens, output_tokens = payload.get("input_tokens"), payload.get("output_tokens")
        if "total_tokens" not in payload and input_tokens is not None and output_tokens is not None:
            payload["total_tokens"] = input_tokens + output_tokens
        self.event = new_event(
            "outcome",
            payload,
            identity=self.identity,
            session_id=self.session_id,
            trace_id=self.trace_id,
            occurred_at=self._started_at,
            causation_id=causation_id,
        )
        self.producer.emit(self.event)

    # -- as a decorator --------------------------------------------------------------

    def _fresh(self) -> track_action:
        """A new tracker per call, so concurrent and recursive calls do not share state."""
        clone = copy.copy(self)
        clone._recorded = {}
        return clone

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._fresh():
                    return await func(*args, **kwargs)

            return cast("F", async_wrapper)  # wraps(func) keeps its signature

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return cast("F", wrapper)


def _status_for(exc_type: type[BaseException] | None) -> tuple[str, str]:
    if exc_type is None:
        return "SUCCESS", "INFO"
    if issubclass(exc_type, AgentPaused):
        return "CANCELLED", "WARNING"
    if issubclass(exc_type, TimeoutError):
        return "TIMEOUT", "ERROR"
    if issubclass(exc_type, asyncio.CancelledError | KeyboardInterrupt):
        return "CANCELLED", "WARNING"
    return "FAILURE", "ERROR"


def _qualified_name(exc_type: type[BaseException]) -> str:
    module = exc_type.__module__
    return exc_type.__qualname__ if module == "builtins" else f"{module}.{exc_type.__qualname__}"
