"""
C{httpchart get} through a proxy, run as a separate process: C{--proxy}, the
environment's settings and C{no_proxy}, and one clear line (never with the
credentials) for every failure the proxy causes.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import ClassVar

import pytest
from twisted.internet import reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

from localservers.servers import SMALL, Authority, Content, TwistedWebServer, free_port
from localservers.tinyproxy import PROXY_USER, TinyProxy, environment


@pytest.mark.usefixtures("served", "tinyproxy")
class TestGetThroughAProxy(TestCase):
    timeout = 60
    content: ClassVar[Content]
    authority: ClassVar[Authority]
    tinyproxy: ClassVar[TinyProxy]
    guarded_tinyproxy: ClassVar[TinyProxy]

    def setUp(self) -> None:
        self.origin = TwistedWebServer(reactor, self.content, tls=self.authority)
        self.addCleanup(self.origin.stop)
        files = Path(tempfile.mkdtemp(prefix="httpchart-cli-proxy-"))
        self.addCleanup(shutil.rmtree, files)
        self.pem = files / "ca.pem"
        self.pem.write_bytes(self.authority.ca_pem())

    async def get(self, *arguments: str | bytes, **proxies: str) -> tuple[str, str, int]:
        out, err, code = await getProcessOutputAndValue(
            sys.executable,
            ["-m", "httpchart.protocol", "get", "--cacert", str(self.pem), *arguments],
            env=environment(**proxies),
        )
        return out.decode(), err.decode(), code

    async def test_proxy_option_tunnels_https(self) -> None:
        before = self.tinyproxy.connects()
        out, err, code = await self.get("--proxy", self.tinyproxy.url(), self.origin.url("/small"))
        assert (code, err) == (0, "")
        assert out.endswith(SMALL.decode())
        assert self.tinyproxy.connects() - before == 1

    async def test_the_environment_is_followed_unless_no_proxy_covers_the_host(self) -> None:
        proxy = self.tinyproxy.url().decode()
        before = self.tinyproxy.connects()
        out, err, code = await self.get(self.origin.url("/small"), HTTPS_PROXY=proxy)
        assert (code, err) == (0, "")
        assert self.tinyproxy.connects() - before == 1
        out, err, code = await self.get(
            self.origin.url("/small"), https_proxy=proxy, NO_PROXY="127.0.0.1"
        )
        assert (code, err) == (0, "")
        assert out.endswith(SMALL.decode())
        assert self.tinyproxy.connects() - before == 1

    async def test_a_refused_proxy_is_one_error_line(self) -> None:
        port = free_port()
        out, err, code = await self.get(
            "--proxy", f"http://someone:hunter2@127.0.0.1:{port}", self.origin.url("/small")
        )
        assert (out, code) == ("", 1)
        assert err.startswith(
            f"httpchart: error: the proxy 127.0.0.1:{port} refused the connection"
        )
        assert "hunter2" not in err

    async def test_wrong_credentials_are_one_error_line_without_them(self) -> None:
        url = self.guarded_tinyproxy.url(credentials=(PROXY_USER[0], "hunter2"))
        out, err, code = await self.get("--proxy", url, self.origin.url("/small"))
        assert (out, code) == ("", 1)
        where = f"127.0.0.1:{self.guarded_tinyproxy.port}"
        assert err.startswith(f"httpchart: error: the proxy {where} refused the credentials given")
        assert "hunter2" not in err
        assert err.count("\n") == 1

    async def test_an_unusable_proxy_url_is_one_error_line(self) -> None:
        out, err, code = await self.get(
            "--proxy", "socks5://u:hunter2@127.0.0.1:1080", "https://x/"
        )
        assert (out, code) == ("", 1)
        assert err == (
            "httpchart: error: bad --proxy: proxy socks5://***@127.0.0.1:1080: "
            "only http:// proxies are supported, not socks5://\n"
        )
