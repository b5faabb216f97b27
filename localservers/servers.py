"""
Real HTTP servers for the end-to-end tests, on loopback ports: Twisted's own
web server, started in the test's reactor, and Debian's nginx, started as a
child process with a generated configuration.

Both serve the same files (L{Content}) under the same paths and say which TCP
connection carried each response in an C{X-Connection} header (a number per
connection, counted by the server), so tests can count connections from the
server's side:

  - C{/empty}, C{/small}, C{/large}: 0 bytes, a few bytes, L{LARGE} bytes;
  - C{/close/small}: the small file, with the connection closed after it;
  - uploads: Twisted's server echoes the body of a POST or PUT to C{/echo};
    nginx stores a PUT to C{/dav/NAME} (read it back with a GET) and answers
    a POST to C{/post} with 204, discarding the body.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import trustme
from twisted.internet.defer import Deferred, succeed
from twisted.internet.ssl import PrivateCertificate
from twisted.protocols.policies import WrappingFactory
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.static import File

LARGE = 50 * 1024 * 1024
SMALL = b"hello from a real server\n"
_BLOCK = bytes(range(256)) * 256


@dataclass(frozen=True)
class Content:
    """
    The files both servers serve, and what the large one should hash to.
    """

    root: Path
    large_sha256: str


def write_content(root: Path) -> Content:
    """
    Write C{empty}, C{small} and C{large} into C{root}.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "empty").write_bytes(b"")
    (root / "small").write_bytes(SMALL)
    digest = hashlib.sha256()
    with (root / "large").open("wb") as large:
        for _ in range(LARGE // len(_BLOCK)):
            large.write(_BLOCK)
            digest.update(_BLOCK)
    return Content(root, digest.hexdigest())


class Authority:
    """
    A certificate authority made for the tests, and a certificate it issued
    for the loopback address.
    """

    def __init__(self) -> None:
        self.ca = trustme.CA()
        self.server = self.ca.issue_cert("127.0.0.1", "localhost")

    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()

    def server_options(self) -> Any:
        """
        Twisted's TLS server options for the loopback certificate.
        """
        pem = self.server.private_key_and_cert_chain_pem.bytes()
        return PrivateCertificate.loadPEM(pem).options()

    def write_server_files(self, directory: Path) -> tuple[Path, Path]:
        """
        The loopback certificate chain and its key, as files for nginx.
        """
        chain, key = directory / "server.pem", directory / "server.key"
        chain.write_bytes(b"".join(blob.bytes() for blob in self.server.cert_chain_pems))
        self.server.private_key_pem.write_to_path(str(key))
        return chain, key


class _Echo(Resource):
    """
    Answers a POST or PUT with the body it received, saying how it came
    (C{X-Method}, C{X-Chunked}) and echoing any C{X-Test} header as
    C{X-Seen-Test}.
    """

    isLeaf = True

    def __init__(self) -> None:
        Resource.__init__(self)

    def render_POST(self, request: Any) -> bytes:
        body: bytes = request.content.read()
        request.setHeader(b"x-method", request.method)
        request.setHeader(b"x-seen-test", request.getHeader(b"x-test") or b"")
        request.setHeader(
            b"x-chunked",
            b"yes" if request.requestHeaders.hasHeader(b"transfer-encoding") else b"no",
        )
        return body

    render_PUT = render_POST


class _Closing(File):
    """
    Serves files and closes the connection after each response.
    """

    def render_GET(self, request: Any) -> Any:
        request.setHeader(b"connection", b"close")
        return super().render_GET(request)


class _NumberingSite(Site):
    """
    Puts the number of the response's connection in C{X-Connection}.
    """

    def getResourceFor(self, request: Any) -> Any:
        number = request.channel.transport.number
        request.setHeader(b"x-connection", str(number).encode())
        return super().getResourceFor(request)


class _Connections(WrappingFactory):
    """
    Numbers the server's connections and tells when they are all closed.
    """

    def __init__(self, site: Site) -> None:
        super().__init__(site)
        self._numbers = count(1)
        self._idle: list[Deferred[None]] = []

    def buildProtocol(self, addr: Any) -> Any:
        wrapper = super().buildProtocol(addr)
        wrapper.number = next(self._numbers)
        return wrapper

    def unregisterProtocol(self, protocol: Any) -> None:
        super().unregisterProtocol(protocol)
        if not self.protocols:
            waiters, self._idle = self._idle, []
            for waiter in waiters:
                waiter.callback(None)

    def all_closed(self) -> Deferred[None]:
        if not self.protocols:
            return succeed(None)
        waiter: Deferred[None] = Deferred()
        self._idle.append(waiter)
        return waiter


class TwistedWebServer:
    """
    Twisted's web server on a free loopback port of C{reactor}.

    @param idle_timeout: Seconds after which the server closes an idle
        connection (Twisted's default is twelve hours).
    @param tls: Serve HTTPS with this authority's loopback certificate.
    """

    def __init__(
        self,
        reactor: Any,
        content: Content,
        *,
        idle_timeout: float | None = None,
        tls: Authority | None = None,
    ) -> None:
        root = File(str(content.root))
        root.putChild(b"echo", _Echo())
        root.putChild(b"close", _Closing(str(content.root)))
        site = _NumberingSite(root, timeout=idle_timeout or 12 * 3600)
        self._connections = _Connections(site)
        if tls is None:
            self._port = reactor.listenTCP(0, self._connections, interface="127.0.0.1")
        else:
            self._port = reactor.listenSSL(
                0, self._connections, tls.server_options(), interface="127.0.0.1"
            )
        self.scheme = "http" if tls is None else "https"

    def url(self, path: str) -> bytes:
        return f"{self.scheme}://127.0.0.1:{self._port.getHost().port}{path}".encode()

    async def stop(self) -> None:
        """
        Stop listening, then wait for the connections still open to close.
        """
        await self._port.stopListening()
        await self._connections.all_closed()


def free_port() -> int:
    """
    A loopback port nothing listens on right now.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def await_listening(
    process: subprocess.Popen[bytes], ports: Iterable[int], name: str, log: Callable[[], str]
) -> None:
    """
    Wait up to ten seconds until the server C{process} started accepts
    connections on every one of C{ports}.

    @param name: The server's name, for the error.
    @param log: What the server logged, for the error.
    @raise RuntimeError: The server exited, or did not listen in time.
    """
    deadline = time.monotonic() + 10
    for port in ports:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited: {log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not listen: {log()}") from None
                time.sleep(0.02)


def nginx_binary() -> str | None:
    """
    Where Debian's nginx is (it lives in /usr/sbin, often not on a user's
    PATH), or C{None}.
    """
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


_NGINX_CONF = """\
daemon off;
master_process off;
pid {home}/nginx.pid;
error_log {home}/error.log;
worker_rlimit_nofile {open_files};
events {{ worker_connections {worker_connections}; }}
http {{
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {home}/temp/body;
    proxy_temp_path {home}/temp/proxy;
    fastcgi_temp_path {home}/temp/fastcgi;
    uwsgi_temp_path {home}/temp/uwsgi;
    scgi_temp_path {home}/temp/scgi;
    keepalive_requests 10000;
    add_header X-Connection $connection always;
    server {{
        listen 127.0.0.1:{http};
        listen 127.0.0.1:{https} ssl;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        root {content};
        location /dav/ {{
            root {home}/uploads;
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 64m;
        }}
        location = /post {{
            return 204;
        }}
        location = /tiny-uploads {{
            client_max_body_size 1k;
            return 204;
        }}
        location /close/ {{
            alias {content}/;
            keepalive_timeout 0;
        }}
    }}
    server {{
        listen 127.0.0.1:{brief};
        root {content};
        keepalive_timeout {brief_timeout};
    }}
}}
"""


class Nginx:
    """
    Debian's nginx, serving L{Content} over HTTP and HTTPS, and over HTTP on
    a third port with a keep-alive timeout of L{BRIEF_KEEPALIVE}.

    It runs in the foreground as a single process, with its configuration,
    pid file, logs, temporary files and uploads all in C{home}, and is
    stopped by its process id.

    @param worker_connections: How many connections nginx serves at once
        (it asks for twice as many open files, which the process's hard
        limit must allow).
    """

    BRIEF_KEEPALIVE = "200ms"

    def __init__(
        self,
        home: Path,
        content: Content,
        authority: Authority,
        *,
        worker_connections: int = 512,
    ) -> None:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed; `make setup` installs it")
        for directory in ("temp", "uploads"):
            (home / directory).mkdir(parents=True)
        chain, key = authority.write_server_files(home)
        self.ports = {"http": free_port(), "https": free_port(), "brief": free_port()}
        config = home / "nginx.conf"
        config.write_text(
            _NGINX_CONF.format(
                home=home,
                content=content.root,
                chain=chain,
                key=key,
                brief_timeout=self.BRIEF_KEEPALIVE,
                worker_connections=worker_connections,
                open_files=2 * worker_connections + 64,
                **self.ports,
            )
        )
        self._home = home
        self._process = subprocess.Popen(
            [binary, "-p", str(home), "-c", str(config), "-e", str(home / "error.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await_listening(self._process, self.ports.values(), "nginx", self._errors)
        except BaseException:
            self.stop()
            raise

    def _errors(self) -> str:
        log = self._home / "error.log"
        return log.read_text() if log.exists() else "(no error log)"

    def url(self, path: str, *, port: str = "http") -> bytes:
        scheme = "https" if port == "https" else "http"
        return f"{scheme}://127.0.0.1:{self.ports[port]}{path}".encode()

    def stop(self) -> None:
        """
        Stop nginx (a fast shutdown) and wait for it to exit.
        """
        if self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@contextmanager
def running_nginx(
    home: Path, content: Content, authority: Authority, **options: Any
) -> Iterator[Nginx]:
    """
    nginx, running for the duration of the C{with} block; C{options} go to
    L{Nginx}.
    """
    server = Nginx(home, content, authority, **options)
    try:
        yield server
    finally:
        server.stop()
