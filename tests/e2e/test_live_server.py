"""The tests' live server itself: a response is closed also when the client drops the
connection as the server drains it (werkzeug's development server then skipped the close, and
a recording being sent stayed open until the garbage collector warned, in whichever test ran)."""

from __future__ import annotations

import socket
import threading

from werkzeug.serving import make_server

from .conftest import _Handler, _remembering


class _Body:
    """A response body that says whether it was closed."""

    def __init__(self):
        self.closed = threading.Event()

    def __iter__(self):
        yield b"data"

    def close(self):
        self.closed.set()


class _ResetRead:
    """The request's stream, as after the client reset the connection: reading raises."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, name):
        return getattr(self.stream, name)

    def read(self, *args):
        raise ConnectionResetError("reset by peer")


def _serve_once(handler_class) -> tuple[_Body, threading.Event]:
    """One request, the drain after it failing as on a reset connection; the body, and whether
    the handler was told the connection dropped (the path under test was taken)."""
    body, dropped = _Body(), threading.Event()

    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", "4")])
        return body

    class Dropping(handler_class):
        def run_wsgi(self):
            self.rfile = _ResetRead(self.rfile)  # the drain after the response raises
            super().run_wsgi()

        def connection_dropped(self, error, environ=None):
            dropped.set()
            super().connection_dropped(error, environ)

        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, _remembering(app), request_handler=Dropping)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    with socket.create_connection(("127.0.0.1", server.server_port)) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        # nothing more to send: the socket is readable (at its end) when the server drains it,
        # whenever that is
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1024)
    thread.join(5)
    server.server_close()
    return body, dropped


def test_a_response_is_closed_when_the_client_drops_the_connection():
    body, dropped = _serve_once(_Handler)
    assert dropped.wait(5)  # the drain raised: werkzeug's own handler skips the close then
    assert body.closed.wait(5)
