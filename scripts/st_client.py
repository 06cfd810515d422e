"""A small Streamlit client that speaks the app's own protocol over /_stcore/stream.

It does what the browser's frontend does, and no more:

- connect with the "streamlit" subprotocol, then send a BackMsg `rerun_script` whose
  ClientState carries the URL's query string and page name (the server says nothing until then);
- read ForwardMsgs: `new_session` (a full run starts; the frontend drops its auto-rerun timers
  here), `navigation` (the current page's hash, sent back on later reruns), `page_info_changed`
  (the app rewrote the query string), `delta` (elements at a `metadata.delta_path`),
  `auto_rerun` / `stop_auto_rerun` (an `st.fragment(run_every=...)`: the *client* must send a
  fragment rerun, `is_auto_rerun=True`, every `interval` seconds), `script_finished`;
- press a button: a rerun whose WidgetStates hold one WidgetState with the button's id
  (found in the deltas by its label) and `trigger_value=True`. Widgets the message leaves out
  keep their values on the server (session_state carries them over), so only the trigger is sent.

It never sends `cached_message_hashes`, so the server always sends whole messages (no `ref_hash`).
Message formats: streamlit/proto/{BackMsg,ClientState,WidgetStates,ForwardMsg}.proto, the server
side in streamlit/web/server/starlette/starlette_websocket.py and streamlit/runtime/app_session.py,
the timers in the frontend's App.tsx (handleAutoRerun, handleNewSession).
"""
from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

STATUS_RE = re.compile(r"\*\*([^*]+)\*\*")


@dataclass
class Event:
    t: float            # time.monotonic()
    kind: str           # ForwardMsg type
    nbytes: int


@dataclass
class StreamlitSession:
    """One browser tab's worth of protocol. Use from one asyncio event loop."""
    base_url: str                     # http://127.0.0.1:PORT
    query_string: str = ""            # without the "?"
    page_name: str = ""               # URL path of the page ("" = the default page)
    name: str = ""
    open_timeout: float = 60.0
    elements: dict = field(default_factory=dict)    # delta path (tuple) -> Element proto
    events: list = field(default_factory=list)      # Event per ForwardMsg received
    delta_times: list = field(default_factory=list)  # time.monotonic() of each delta message
    page_script_hash: str = ""
    full_runs: int = 0                # script_finished of whole-page runs
    fragment_runs: int = 0
    closed_reason: str | None = None
    errors: list = field(default_factory=list)
    tree_errors: list = field(default_factory=list)  # deltas the frontend's element tree would reject

    def __post_init__(self) -> None:
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._finished = asyncio.Event()     # a whole-page run finished
        self._changed = asyncio.Event()      # any message arrived
        self._touched: set = set()           # delta paths drawn by the current whole-page run
        self._kinds: dict = {}               # delta path -> "block" | "element", as the frontend's tree

    # ------------------------------------------------------------------ connection
    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"

    async def open(self) -> float:
        """Connect and run the page once, like loading the URL. Returns the seconds it took."""
        start = time.monotonic()
        self._ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                                            ping_interval=None, open_timeout=self.open_timeout,
                                            close_timeout=2)
        self._reader = asyncio.create_task(self._read(), name=f"st-read-{self.name}")
        await self.rerun(page_name=self.page_name)
        await self.wait_full_run(self.open_timeout)
        return time.monotonic() - start

    async def close(self) -> None:
        self._cancel_timers()
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 5)
            except Exception:   # noqa: BLE001 - closing is best effort
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):   # noqa: BLE001
                pass
        self.closed_reason = self.closed_reason or "closed by client"

    # ------------------------------------------------------------------ sending
    async def rerun(self, widget_states: list | None = None, fragment_id: str = "", auto: bool = False,
                    page_name: str = "") -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = page_name
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = auto
        for ws_state in widget_states or ():
            state.widget_states.widgets.append(ws_state)
        if not fragment_id:
            self._finished.clear()
        await self._ws.send(msg.SerializeToString())

    async def click(self, label: str) -> str:
        """Press the button with this label; returns its widget id."""
        widget_id = self.widget_id(label, "button")
        if widget_id is None:
            raise LookupError(f"{self.name}: no button labelled {label!r} on the page")
        await self.rerun([WidgetState(id=widget_id, trigger_value=True)])
        return widget_id

    # ------------------------------------------------------------------ reading the page
    def widget_id(self, label: str, kind: str | None = None) -> str | None:
        for path in sorted(self.elements):
            element = self.elements[path]
            which = element.WhichOneof("type")
            if kind and which != kind:
                continue
            inner = getattr(element, which)
            if getattr(inner, "label", None) == label and getattr(inner, "id", ""):
                return inner.id
        return None

    def button_disabled(self, label: str) -> bool | None:
        for path in sorted(self.elements):
            element = self.elements[path]
            if element.WhichOneof("type") == "button" and element.button.label == label:
                return element.button.disabled
        return None

    def metric(self, label: str) -> str | None:
        for path in sorted(self.elements):
            element = self.elements[path]
            if element.WhichOneof("type") == "metric" and element.metric.label == label:
                return element.metric.body
        return None

    def markdown_bold(self) -> list[str]:
        """The bold phrases of every markdown element, in page order."""
        found = []
        for path in sorted(self.elements):
            element = self.elements[path]
            if element.WhichOneof("type") == "markdown":
                found += STATUS_RE.findall(element.markdown.body)
        return found

    def plotly_figures(self) -> list[dict]:
        figures = []
        for path in sorted(self.elements):
            element = self.elements[path]
            if element.WhichOneof("type") == "plotly_chart" and element.plotly_chart.spec:
                try:
                    figures.append(json.loads(element.plotly_chart.spec))
                except ValueError:
                    pass
        return figures

    # ------------------------------------------------------------------ waiting
    async def wait_full_run(self, timeout: float) -> None:
        await asyncio.wait_for(self._finished.wait(), timeout)

    async def wait_for(self, predicate, timeout: float) -> Any:
        """Wait until predicate(self) is truthy (checked after each message); returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            if self.closed_reason:
                raise ConnectionError(f"{self.name}: connection closed ({self.closed_reason})")
            left = deadline - time.monotonic()
            if left <= 0:
                raise asyncio.TimeoutError(f"{self.name}: condition not met in {timeout:.0f} s")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))
            except asyncio.TimeoutError:
                pass

    async def wait_change(self, timeout: float) -> None:
        """Return when the next message arrives, or after `timeout` seconds."""
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    # ------------------------------------------------------------------ the reader
    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                if isinstance(raw, str):
                    continue
                now = time.monotonic()
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                kind = msg.WhichOneof("type") or ""
                self.events.append(Event(now, kind, len(raw)))
                self._handle(msg, kind, now)
                self._changed.set()
        except websockets.ConnectionClosed as e:
            self.closed_reason = f"connection closed: {e}"
        except asyncio.CancelledError:
            raise
        except Exception as e:   # noqa: BLE001 - reported, never raised in the reader
            self.closed_reason = f"reader failed: {type(e).__name__}: {e}"
            self.errors.append(self.closed_reason)
        finally:
            self._cancel_timers()
            self._changed.set()

    def _handle(self, msg: ForwardMsg, kind: str, now: float) -> None:
        if kind == "new_session":
            # Sent at the start of every run, fragment runs too (metadata.run.fragment_ids set).
            # A whole-page run clears every auto-rerun timer, as the frontend's handleNewSession.
            if not msg.metadata.run.fragment_ids:
                self._cancel_timers()
                self._touched = set()
        elif kind == "navigation":
            if msg.navigation.page_script_hash:
                self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "delta":
            self.delta_times.append(now)
            self._apply_delta(msg)
        elif kind == "auto_rerun":
            self._start_timer(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._cancel_timers(fragment_id)
        elif kind == "script_finished":
            status = msg.script_finished
            if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.fragment_runs += 1
            elif status == ForwardMsg.FINISHED_SUCCESSFULLY:
                self.full_runs += 1
                # what this whole-page run did not draw is gone from the page
                for path in [p for p in self.elements if p not in self._touched]:
                    del self.elements[path]
                for path in [p for p in self._kinds if p not in self._touched]:
                    del self._kinds[path]
                self._finished.set()
            elif status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self.errors.append("script compile error")
                self._finished.set()

    def _apply_delta(self, msg: ForwardMsg) -> None:
        path = tuple(msg.metadata.delta_path)
        self._touched.add(path)
        delta = msg.delta
        which = delta.WhichOneof("type")
        self._check_tree(path, which)
        if which == "add_block":
            # a new block at `path` replaces whatever was there
            for old in [p for p in self.elements if p[:len(path)] == path]:
                del self.elements[old]
        elif which == "new_element":
            element = delta.new_element
            if element.WhichOneof("type") == "exception":
                self.errors.append(f"exception on the page: {element.exception.message[:200]}")
            self.elements[path] = element

    def _check_tree(self, path: tuple, which: str | None) -> None:
        """Follow the frontend's tree: every node a delta's path passes through (below the root
        container) must be a block. One that is an element is what Chromium reports as "'setIn'
        cannot be called on an ElementNode"; the page then stops applying updates."""
        for k in range(2, len(path)):
            if self._kinds.get(path[:k]) == "element":
                if len(self.tree_errors) < 20:
                    self.tree_errors.append(f"{which} at {list(path)} goes through element {list(path[:k])}")
                break
        old = self._kinds.get(path)
        if which == "new_element" or (which == "add_block" and old == "element"):
            for p in [p for p in self._kinds if len(p) > len(path) and p[:len(path)] == path]:
                del self._kinds[p]        # an element, or a block replacing one, has no children yet
        if which in ("new_element", "add_block"):
            self._kinds[path] = "element" if which == "new_element" else "block"

    # ------------------------------------------------------------------ auto-rerun timers
    def _start_timer(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or interval <= 0:
            return                           # page-level auto reruns: not used by this app
        current = self._timers.get(fragment_id)
        if current and current[0] == interval:
            return                           # same interval: keep the countdown (as App.tsx does)
        self._cancel_timers(fragment_id)
        task = asyncio.create_task(self._tick(fragment_id, interval), name=f"st-tick-{self.name}")
        self._timers[fragment_id] = (interval, task)

    async def _tick(self, fragment_id: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.rerun(fragment_id=fragment_id, auto=True)
            except websockets.ConnectionClosed:
                return

    def _cancel_timers(self, fragment_id: str | None = None) -> None:
        for key in [k for k in self._timers if fragment_id is None or k == fragment_id]:
            self._timers.pop(key)[1].cancel()
