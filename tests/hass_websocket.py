"""Home Assistant's websocket API from a synchronous test: commands, and every state change.

    with HassWebSocket(hass.url, hass.token) as ws:
        ws.call("config/entity_registry/list")        # what the frontend asks for
        ws.changes_of("sensor.porch_objects", after)  # every state it took, in order

What the REST API cannot give: the entity and device registries (unique ids, device names,
`via_device`, entity categories) and a complete record of the states an entity went through
(polling sees only some of them, so "it never showed a stale value" needs the event stream).
aiohttp (Home Assistant's own HTTP client, so in every Home Assistant venv) runs on an event
loop of its own thread; `close()` stops both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from dataclasses import dataclass
import itertools
import threading
import time
from types import TracebackType
from typing import Any

import aiohttp


@dataclass(frozen=True)
class StateChange:
    """One `state_changed` event as the test received it, in arrival order."""

    seq: int
    entity_id: str
    state: str | None  # None: the entity was removed
    attributes: dict[str, Any]
    received: float  # time.monotonic() on arrival


class HassWebSocketError(Exception):
    """A command failed, or the connection did."""


class HassWebSocket:
    """One authenticated websocket connection, subscribed to `state_changed`."""

    def __init__(self, url: str, token: str, timeout: float = 30) -> None:
        """Connect to `url` (http://127.0.0.1:PORT) with an access token; subscribe."""
        self.changes: list[StateChange] = []
        self._current: dict[str, StateChange] = {}
        self._cond = threading.Condition()
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="hass-websocket", daemon=True
        )
        self._thread.start()
        try:
            self._run(self._connect(url, token))
        except BaseException:
            self.close()
            raise

    # -- the synchronous side -----------------------------------------------------------------

    def call(self, command: str, **fields: Any) -> Any:
        """Send one command (`{"type": command, **fields}`) and return its result."""
        return self._run(self._command({"type": command, **fields}))

    def last_seq(self) -> int:
        """The sequence number of the last state change received so far (-1: none)."""
        with self._cond:
            return self.changes[-1].seq if self.changes else -1

    def changes_of(
        self, entity_ids: str | set[str], after: int = -1, before: int | None = None
    ) -> list[StateChange]:
        """The state changes of some entities with after < seq < before, in order."""
        wanted = {entity_ids} if isinstance(entity_ids, str) else entity_ids
        with self._cond:
            return [
                c
                for c in self.changes
                if c.entity_id in wanted and c.seq > after and (before is None or c.seq < before)
            ]

    def current(self) -> dict[str, StateChange]:
        """The latest state of every entity that changed since the connection was made."""
        with self._cond:
            return dict(self._current)

    def wait_states(
        self, predicate: Callable[[dict[str, StateChange]], bool], timeout: float = 30
    ) -> dict[str, StateChange] | None:
        """Wait until `predicate(current states)` holds, re-checked at each state change.

        Returns those states, or None after `timeout` s.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self._current), timeout):
                return None
            return dict(self._current)

    def wait_for(
        self, predicate: Callable[[StateChange], bool], timeout: float = 30, after: int = -1
    ) -> StateChange:
        """The first state change after seq `after` that matches, waiting up to `timeout` s."""
        found: list[StateChange] = []

        def match() -> bool:
            found[:] = [c for c in self.changes if c.seq > after and predicate(c)]
            return bool(found)

        with self._cond:
            if not self._cond.wait_for(match, timeout):
                raise AssertionError(f"no matching state change within {timeout} s")
        return found[0]

    def close(self) -> None:
        """Close the connection, stop the loop and its thread."""
        if self._loop.is_running():
            with contextlib.suppress(HassWebSocketError, TimeoutError, aiohttp.ClientError):
                self._run(self._disconnect())
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()

    def __enter__(self) -> HassWebSocket:
        """Use as a context manager: closed at the end of the block."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close."""
        self.close()

    def _run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(self._timeout)

    # -- the loop's side ------------------------------------------------------------------------

    async def _connect(self, url: str, token: str) -> None:
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(
            url.replace("http", "ws", 1).rstrip("/") + "/api/websocket", max_msg_size=0
        )
        hello = await self._ws.receive_json()
        if hello.get("type") != "auth_required":
            raise HassWebSocketError(f"unexpected greeting {hello}")
        await self._ws.send_json({"type": "auth", "access_token": token})
        reply = await self._ws.receive_json()
        if reply.get("type") != "auth_ok":
            raise HassWebSocketError(f"authentication refused: {reply}")
        self._reader = asyncio.create_task(self._read())
        await self._command({"type": "subscribe_events", "event_type": "state_changed"})

    async def _disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()

    async def _command(self, message: dict[str, Any]) -> Any:
        if self._ws is None or self._ws.closed:
            raise HassWebSocketError("the websocket is closed")
        message_id = next(self._ids)
        reply: asyncio.Future[Any] = self._loop.create_future()
        self._pending[message_id] = reply
        await self._ws.send_json({"id": message_id, **message})
        try:
            return await reply
        finally:
            self._pending.pop(message_id, None)

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = message.json()
            for item in data if isinstance(data, list) else [data]:
                self._dispatch(item)
        for reply in self._pending.values():
            if not reply.done():
                reply.set_exception(HassWebSocketError("the websocket closed"))

    def _dispatch(self, item: dict[str, Any]) -> None:
        if item.get("type") == "event":
            data = item["event"]["data"]
            new = data.get("new_state")
            with self._cond:
                change = StateChange(
                    len(self.changes),
                    data["entity_id"],
                    None if new is None else str(new["state"]),
                    {} if new is None else dict(new.get("attributes") or {}),
                    time.monotonic(),
                )
                self.changes.append(change)
                self._current[change.entity_id] = change
                self._cond.notify_all()
            return
        reply = self._pending.get(item.get("id", -1))
        if item.get("type") != "result" or reply is None or reply.done():
            return
        if item.get("success"):
            reply.set_result(item.get("result"))
        else:
            reply.set_exception(HassWebSocketError(f"{item.get('error')}"))
