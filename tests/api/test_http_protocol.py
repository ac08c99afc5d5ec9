"""Nagle's algorithm is off on every connection the server accepts, whoever bound the socket."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.config import Config
from uvicorn.server import ServerState

from ade.api.http_protocol import NoDelayHttpToolsProtocol


async def _nothing(_scope: object, _receive: object, _send: object) -> None:
    pass


def test_accepted_connections_send_small_writes_at_once() -> None:
    # Bound as uvicorn binds for --workers: without a protocol number, so the event loop leaves
    # Nagle on for what it accepts (the plain protocol would keep it).
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    config = Config(_nothing, loop="asyncio")
    config.load()
    state = ServerState()
    accepted: list[NoDelayHttpToolsProtocol] = []

    def protocol() -> NoDelayHttpToolsProtocol:
        accepted.append(NoDelayHttpToolsProtocol(config, server_state=state, app_state={}))
        return accepted[-1]

    async def accept_one() -> int:
        server = await asyncio.get_running_loop().create_server(protocol, sock=listener)
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(500):  # the accept happens on a later turn of the loop
            if accepted and accepted[0].transport is not None:
                break
            await asyncio.sleep(0.01)
        sock = accepted[0].transport.get_extra_info("socket")
        nodelay: int = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        server.close()
        return nodelay

    assert asyncio.run(accept_one()) == 1
