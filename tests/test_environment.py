"""
The environment's proxy settings, read with curl's conventions, and proxy
URLs, whose credentials never show.
"""

from __future__ import annotations

import pytest
from twisted.internet import reactor
from twisted.python.failure import Failure

from httpchart.protocol import Proxy, ProxySettings, ProxyURLError, environment_agent

PROXY = "http://proxy.example:3128"


def settings(**environ: str) -> ProxySettings:
    return ProxySettings.from_environment(environ)


def via(found: ProxySettings, url: str) -> str | None:
    scheme, _, rest = url.partition("://")
    host, _, port = rest.rpartition(":")
    proxy = found.proxy_for(scheme.encode(), host.encode(), int(port))
    return None if proxy is None else proxy.where


def test_each_scheme_has_its_variable_and_all_proxy_covers_the_rest() -> None:
    found = settings(http_proxy="a:1", https_proxy="b:2")
    assert via(found, "http://x:80") == "a:1"
    assert via(found, "https://x:443") == "b:2"
    found = settings(ALL_PROXY="c:3", HTTPS_PROXY="b:2")
    assert via(found, "http://x:80") == "c:3"
    assert via(found, "https://x:443") == "b:2"
    assert via(settings(), "https://x:443") is None


def test_lower_case_wins_and_empty_is_unset() -> None:
    assert via(settings(https_proxy="low:1", HTTPS_PROXY="up:2"), "https://x:443") == "low:1"
    assert via(settings(https_proxy="", HTTPS_PROXY="up:2"), "https://x:443") == "up:2"
    assert via(settings(https_proxy=" "), "https://x:443") is None


def test_upper_case_http_proxy_is_ignored_in_a_cgi_program() -> None:
    assert via(settings(HTTP_PROXY="up:2"), "http://x:80") == "up:2"
    assert via(settings(HTTP_PROXY="up:2", REQUEST_METHOD="GET"), "http://x:80") is None
    assert via(settings(http_proxy="low:1", REQUEST_METHOD="GET"), "http://x:80") == "low:1"


@pytest.mark.parametrize(
    ("no_proxy", "url", "direct"),
    [
        ("*", "https://anything.example:443", True),
        ("example.com", "https://example.com:443", True),
        ("example.com", "https://www.example.com:443", True),
        ("example.com", "https://notexample.com:443", False),
        (".example.com", "https://example.com:443", True),
        (".example.com", "https://a.b.example.com:443", True),
        ("EXAMPLE.com.", "https://www.Example.COM.:443", True),
        ("other.org, example.com", "https://example.com:443", True),
        ("example.com:8443", "https://example.com:8443", True),
        ("example.com:8443", "https://example.com:443", False),
        ("127.0.0.1", "http://127.0.0.1:80", True),
        ("127.0.0.1", "http://127.0.0.2:80", False),
        ("10.0.0.0/8", "http://10.20.30.40:80", True),
        ("10.0.0.0/8", "http://11.0.0.1:80", False),
        ("::1", "http://[::1]:80", True),
        ("[::1]:8080", "http://[::1]:8080", True),
        ("[::1]:8080", "http://[::1]:80", False),
        ("fd00::/8", "http://[fd12::1]:80", True),
        ("*.example.com", "https://www.example.com:443", False),
        ("", "https://example.com:443", False),
    ],
)
def test_no_proxy_follows_curl(no_proxy: str, url: str, direct: bool) -> None:
    found = settings(https_proxy=PROXY, http_proxy=PROXY, no_proxy=no_proxy)
    assert (via(found, url) is None) is direct


def test_upper_case_no_proxy_is_read() -> None:
    assert (
        via(settings(https_proxy=PROXY, NO_PROXY="example.com"), "https://example.com:443") is None
    )


def test_an_unusable_proxy_fails_only_the_requests_that_use_it() -> None:
    found = settings(all_proxy="socks5://u:hunter2@s:1080", https_proxy=PROXY)
    assert via(found, "https://x:443") == "proxy.example:3128"
    with pytest.raises(ProxyURLError, match="all_proxy: proxy socks5://\\*\\*\\*@s:1080") as bad:
        via(found, "http://x:80")
    assert "hunter2" not in str(bad.value)


def test_the_agent_fails_a_request_whose_proxy_is_unusable() -> None:
    agent = environment_agent(reactor, environ={"http_proxy": "https://p:1"})
    outcome: list[object] = []
    agent.request(b"GET", b"http://x/").addBoth(outcome.append)
    (failure,) = outcome
    assert isinstance(failure, Failure)
    assert failure.check(ProxyURLError)


def test_the_agent_keeps_one_proxy_agent_per_proxy() -> None:
    agent = environment_agent(reactor, environ={"https_proxy": PROXY, "http_proxy": PROXY})
    proxy = Proxy.parse(PROXY)
    assert agent.through(proxy) is agent.through(Proxy.parse(PROXY))
    assert agent.settings.proxies == {"http": PROXY, "https": PROXY}


@pytest.mark.parametrize(
    ("url", "where", "authorization"),
    [
        ("http://127.0.0.1:3128", "127.0.0.1:3128", None),
        ("127.0.0.1:3128", "127.0.0.1:3128", None),
        ("http://proxy.example", "proxy.example:1080", None),
        ("http://[::1]:8080/", "[::1]:8080", None),
        ("http://user:secret@p:1", "p:1", b"Basic dXNlcjpzZWNyZXQ="),
        ("http://us%40er:p%3Ass@p:1", "p:1", b"Basic dXNAZXI6cDpzcw=="),
        ("http://user@p:1", "p:1", b"Basic dXNlcjo="),
    ],
)
def test_proxy_urls_are_parsed(url: str, where: str, authorization: bytes | None) -> None:
    proxy = Proxy.parse(url)
    assert proxy.where == where
    assert proxy.authorization == authorization


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://p:1", "only http:// proxies are supported, not https://"),
        ("socks5://p:1", "only http:// proxies are supported"),
        ("http://p:99999", "bad port"),
        ("http://:1", "no host"),
        ("http://p:1/path", "no path"),
    ],
)
def test_unusable_proxy_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(ProxyURLError, match=why):
        Proxy.parse(url)


def test_credentials_never_show_but_tell_proxies_apart() -> None:
    one = Proxy.parse("http://user:secret@p:1")
    other = Proxy.parse("http://user:other@p:1")
    assert repr(one) == str(one) == "Proxy('http://***@p:1')"
    assert one != other
    assert one == Proxy.parse(b"http://user:secret@p:1")
    assert repr(Proxy.parse("p:1")) == "Proxy('http://p:1')"
    with pytest.raises(ProxyURLError) as bad:
        Proxy.parse("ftp://user:secret@p:1")
    assert "secret" not in str(bad.value)
