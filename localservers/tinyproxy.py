"""
Debian's tinyproxy for the end-to-end tests: started as a child process on a
free loopback port with a configuration generated for the run (listening on
loopback only, allowing only loopback clients, optionally asking for Basic
credentials), logging every request line so tests can count the CONNECTs,
and stopped by its process id.  A system tinyproxy (Debian's package starts
one on port 8888 where it can) is never used.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .servers import await_listening, free_port

_CONF = """\
Port {port}
Listen 127.0.0.1
Allow 127.0.0.1
Timeout 30
MaxClients 64
LogFile "{home}/tinyproxy.log"
LogLevel Connect
PidFile "{home}/tinyproxy.pid"
DisableViaHeader Yes
"""

PROXY_USER = ("proxy-user", "proxy-secret-42")
"""
The credentials the guarded proxy of the tests asks for.
"""


PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})


def environment(**proxies: str) -> dict[str, str]:
    """
    This process's environment without its proxy settings (in either case),
    plus C{proxies}: what a command line under test runs with.
    """
    clean = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    return {**clean, **proxies}


def tinyproxy_binary() -> str | None:
    """
    Where Debian's tinyproxy is, or C{None}.
    """
    return shutil.which("tinyproxy") or shutil.which("tinyproxy", path="/usr/sbin:/usr/bin")


class TinyProxy:
    """
    tinyproxy in the foreground, with its configuration and log in C{home}.

    @param credentials: C{(user, password)} for C{BasicAuth}, or C{None} for
        a proxy that asks for none.
    """

    def __init__(self, home: Path, *, credentials: tuple[str, str] | None = None) -> None:
        binary = tinyproxy_binary()
        if binary is None:
            raise RuntimeError("tinyproxy is not installed; `make setup` installs it")
        home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.home = home
        self.credentials = credentials
        config = _CONF.format(port=self.port, home=home)
        if credentials is not None:
            config += f"BasicAuth {credentials[0]} {credentials[1]}\n"
        (home / "tinyproxy.conf").write_text(config)
        self.log = home / "tinyproxy.log"
        self._process = subprocess.Popen(
            [binary, "-d", "-c", str(home / "tinyproxy.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await_listening(self._process, (self.port,), "tinyproxy", self._logged)
        except BaseException:
            self.stop()
            raise

    def _logged(self) -> str:
        return self.log.read_text() if self.log.exists() else "(no log)"

    def url(self, *, credentials: tuple[str, str] | None = None) -> bytes:
        """
        The proxy's URL, with C{credentials} in it if given.
        """
        userinfo = f"{credentials[0]}:{credentials[1]}@" if credentials else ""
        return f"http://{userinfo}127.0.0.1:{self.port}".encode()

    def requests(self) -> list[str]:
        """
        The request lines tinyproxy logged so far, as C{"CONNECT host:port
        HTTP/1.1"} or C{"GET http://... HTTP/1.1"}.
        """
        marker = "Request (file descriptor "
        lines = []
        for line in self._logged().splitlines():
            if marker in line:
                lines.append(line.split(marker, 1)[1].split("): ", 1)[1])
        return lines

    def connects(self) -> int:
        """
        How many CONNECT requests tinyproxy logged so far.
        """
        return sum(line.startswith("CONNECT ") for line in self.requests())

    def stop(self) -> None:
        """
        Stop tinyproxy and wait for it to exit.
        """
        if self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


@contextmanager
def running_tinyproxy(home: Path, **options: object) -> Iterator[TinyProxy]:
    """
    tinyproxy, running for the duration of the C{with} block.
    """
    proxy = TinyProxy(home, **options)  # type: ignore[arg-type]
    try:
        yield proxy
    finally:
        proxy.stop()
