"""Free loopback ports for the throwaway test servers.

The servers listen on 127.0.0.1 only, on a port nobody else uses, so a test run
never touches a developer's own MongoDB or MySQL on the default ports and two
runs on one machine do not collide.
"""

import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The kernel picks it; the socket is closed again so the server can bind it.
    Another process could take it in between, which the server's start then
    reports as a bind error.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]
