"""Many server-sent-event clients in a process of their own, so that reading 200 streams does not slow the
process that times the requests.

The clients speak HTTP/1.1 over plain asyncio streams (chunked responses, no client library: 200 streams of
an httpx client cost more CPU than the server they measure). The parent drives them through a pipe:
    ("mark",)            remember how many events each client has seen; answers "marked"
    ("wait", number, s)  wait up to s seconds until every board shows `number` among the called tickets and
                         every ticket page has had an event since the mark; answers the monotonic time of the
                         last arrival (CLOCK_MONOTONIC is shared by all processes on the machine), or an error
    ("stop",)
On start it answers "ready" once every client has received its first event.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from urllib.parse import urlsplit


@dataclass
class Client:
    kind: str  # board | ticket
    path: str
    events: list[tuple[float, bytes]] = field(default_factory=list)
    mark: int = 0

    def has_since_mark(self, number: str) -> float | None:
        """Arrival time of the first event since the mark that shows the change, else None."""
        needle = f'"number":"{number}"'.encode()
        for at, data in self.events[self.mark :]:
            if self.kind == "ticket":
                return at
            called = data[data.find(b'"called":') : data.find(b'"next":')]
            if needle in called:
                return at
        return None


async def _read_stream(host: str, port: int, client: Client) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {client.path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"{client.path}: {head[:60]!r}")
    pending = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        if size == 0:
            return
        pending += await reader.readexactly(size)
        await reader.readexactly(2)
        while b"\r\n\r\n" in pending:
            event, pending = pending.split(b"\r\n\r\n", 1)
            for line in event.split(b"\r\n"):
                if line.startswith(b"data:"):
                    client.events.append((time.monotonic(), line[5:].strip()))


async def _serve(url: str, clients: list[Client], pipe: Connection) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tasks = [asyncio.create_task(_read_stream(host, port, c)) for c in clients]
    while not all(c.events for c in clients):
        failed = [t for t in tasks if t.done()]
        if failed:
            pipe.send(("error", repr(failed[0].exception())))
            return
        await asyncio.sleep(0.01)
    pipe.send(("ready",))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, pipe.recv)
        if command[0] == "stop":
            break
        if command[0] == "mark":
            for c in clients:
                c.mark = len(c.events)
            pipe.send(("marked",))
            continue
        _, number, timeout = command
        deadline = time.monotonic() + timeout
        while True:
            arrivals = [c.has_since_mark(number) for c in clients]
            if all(a is not None for a in arrivals):
                pipe.send(("arrived", max(a for a in arrivals if a is not None)))
                break
            if time.monotonic() > deadline:
                missing = [c for c, a in zip(clients, arrivals, strict=True) if a is None]
                kinds = ", ".join(sorted({c.kind for c in missing}))
                last = missing[0].events[-1][1][:300] if missing[0].events else b""
                pipe.send(
                    ("error", f"{len(missing)} of {len(clients)} clients ({kinds}) did not see {number}; {last!r}")
                )
                break
            await asyncio.sleep(0.0005)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def run(url: str, streams: list[tuple[str, str]], pipe: Connection) -> None:
    """Process entry point: `streams` are (kind, path) pairs."""
    asyncio.run(_serve(url, [Client(kind, path) for kind, path in streams], pipe))
