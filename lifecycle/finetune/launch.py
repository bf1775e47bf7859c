"""torchrun with its stores on 127.0.0.1: `python -m lifecycle.finetune.launch <torchrun args>`.

torchrun's TCP stores listen on every interface whatever host they are given, so a job would
accept connections from the network for as long as it runs. This launcher registers a
rendezvous backend whose stores listen on sockets bound to loopback, then runs torchrun as is.
"""

from __future__ import annotations

import socket
import sys
from datetime import timedelta
from typing import Any

BACKEND = "loopback"  # the name torchrun's --rdzv-backend is given
HOST = "127.0.0.1"
READ_TIMEOUT_S = 60  # torchrun's own default for store reads


def loopback_store(port: int = 0) -> Any:
    """A TCPStore server listening on 127.0.0.1 only (a free port when port is 0)."""
    from torch.distributed import TCPStore

    listener = socket.create_server((HOST, port))
    bound = listener.getsockname()[1]
    # The store takes the descriptor over: detach it so Python never closes it a second time.
    return TCPStore(
        HOST,
        bound,
        is_master=True,
        multi_tenant=True,
        timeout=timedelta(seconds=READ_TIMEOUT_S),
        master_listen_fd=listener.detach(),
    )


def _handler(params: Any) -> Any:
    """torchrun's c10d rendezvous, with both of its stores on loopback."""
    from torch.distributed.elastic.rendezvous.c10d_rendezvous_backend import (
        C10dRendezvousBackend,
    )
    from torch.distributed.elastic.rendezvous.dynamic_rendezvous import create_handler

    class LoopbackBackend(C10dRendezvousBackend):
        @property
        def name(self) -> str:  # torchrun checks it against --rdzv-backend
            return BACKEND

    store = loopback_store()
    handler = create_handler(store, LoopbackBackend(store, params.run_id), params)
    # Rank 0's second store, shared with the workers for their process group.
    # An instance patch: torch offers no hook for this store (hence the method-assign ignore).
    handler._create_tcp_store_server = lambda master_addr, master_port: loopback_store(  # type: ignore[method-assign]
        master_port
    )
    return handler


# One machine; rendezvous on our loopback stores; workers told to reach rank 0 at 127.0.0.1.
FLAGS: tuple[str, ...] = ("--nnodes", "1", "--rdzv-backend", BACKEND)
FLAGS += ("--rdzv-endpoint", f"{HOST}:0", "--local-addr", HOST)


def main(argv: list[str]) -> None:
    """Register the loopback backend, then run torchrun with FLAGS and `argv`."""
    from torch.distributed.elastic.rendezvous import rendezvous_handler_registry
    from torch.distributed.run import main as torchrun

    rendezvous_handler_registry.register(BACKEND, _handler)
    torchrun([*FLAGS, *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
