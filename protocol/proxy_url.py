"""
L{Proxy}: a proxy's URL, parsed once, whose credentials never show.

A proxy is given as C{http://user:secret@host:port} (the scheme may be left
out; the port defaults to curl's 1080).  The credentials, percent-decoded,
become a C{Proxy-Authorization: Basic} value and nothing else: C{repr},
C{str} and L{Proxy.where} leave them out, so a proxy can be logged, put in an
exception message or used in a pool's key without leaking them.  Two proxies
are equal when they are the same host, port and credentials: connections
authenticated with different credentials are never shared.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes, urlsplit

DEFAULT_PORT = 1080


class ProxyURLError(ValueError):
    """
    A proxy's URL cannot be used; the message says why (without the
    credentials).
    """


@dataclass(frozen=True, repr=False)
class Proxy:
    """
    An HTTP proxy.

    @ivar host: Its host name or address (an IPv6 address without brackets).
    @ivar port: Its port.
    """

    host: str
    port: int
    _authorization: bytes | None = field(default=None, compare=True)

    @classmethod
    def parse(cls, url: bytes | str) -> Proxy:
        """
        Parse C{http://[user[:password]@]host[:port][/]}.

        @raise ProxyURLError: Another scheme, no host, a bad port, a path.
        """
        text = url.decode("ascii", "replace") if isinstance(url, bytes) else url
        text = text.strip()
        if "://" not in text:
            text = "http://" + text
        parts = urlsplit(text)
        shown = _without_credentials(parts.scheme, parts.netloc)
        if parts.scheme.lower() != "http":
            raise ProxyURLError(
                f"proxy {shown}: only http:// proxies are supported, not {parts.scheme}://"
            )
        try:
            port = parts.port
        except ValueError:
            raise ProxyURLError(f"proxy {shown}: bad port") from None
        if not parts.hostname:
            raise ProxyURLError(f"proxy {shown}: no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ProxyURLError(f"proxy {shown}: a proxy's URL has no path")
        authorization = None
        userinfo, at, _ = parts.netloc.rpartition("@")
        if at:
            user, _, password = userinfo.partition(":")
            pair = unquote_to_bytes(user) + b":" + unquote_to_bytes(password)
            authorization = b"Basic " + base64.b64encode(pair)
        return cls(parts.hostname, port or DEFAULT_PORT, authorization)

    @property
    def where(self) -> str:
        """
        C{host:port}, with brackets around an IPv6 address.
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def authorization(self) -> bytes | None:
        """
        The C{Proxy-Authorization} value for the URL's credentials, or
        C{None} if it had none.
        """
        return self._authorization

    def __repr__(self) -> str:
        hidden = "***@" if self._authorization is not None else ""
        return f"Proxy('http://{hidden}{self.where}')"

    __str__ = __repr__


def _without_credentials(scheme: str, netloc: str) -> str:
    host = netloc.rpartition("@")[2]
    hidden = "***@" if "@" in netloc else ""
    return f"{scheme}://{hidden}{host}"
