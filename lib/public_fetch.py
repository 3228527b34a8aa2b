"""Fetching links found in API answers from public addresses only (no SSRF).

Every address a host resolves to is checked at connect time, on the very addresses connected
to, for the first request and every redirect. Knows nothing of Django or the API.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions
from requests.adapters import HTTPAdapter


class AddressNotAllowed(Exception):
    """A link led to a loopback, private or otherwise non-public address.

    Not an OSError, so neither urllib3 nor requests retries or rewraps it.
    """


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def connect_to_public_address(host, port, timeout, source_address=None, socket_options=None):
    """Resolve host once, refuse if any of its addresses is not public, connect to those.

    Checking at connect time, on the very addresses connected to, leaves no gap for a DNS
    answer that changes between a check and the connection.
    """
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    for *_, sockaddr in infos:
        if not is_public_address(sockaddr[0]):
            raise AddressNotAllowed(f"{host} resolves to {sockaddr[0]}, not a public address")
    error = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if isinstance(timeout, int | float):  # else urllib3's "default" sentinel
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as failure:
            error = failure
            sock.close()
    raise error or OSError(f"{host} has no address")


class PublicOnlyConnectionMixin:
    def _new_conn(self):
        try:
            return connect_to_public_address(
                self._dns_host, self.port, self.timeout, self.source_address, self.socket_options
            )
        except socket.gaierror as error:
            raise urllib3.exceptions.NameResolutionError(self.host, self, error) from error
        except TimeoutError as error:
            raise urllib3.exceptions.ConnectTimeoutError(
                self, f"Connection to {self.host} timed out"
            ) from error
        except OSError as error:
            raise urllib3.exceptions.NewConnectionError(
                self, f"Failed to establish a new connection: {error}"
            ) from error


class PublicOnlyHTTPConnection(PublicOnlyConnectionMixin, urllib3.connection.HTTPConnection):
    pass


class PublicOnlyHTTPSConnection(PublicOnlyConnectionMixin, urllib3.connection.HTTPSConnection):
    pass


class PublicOnlyHTTPConnectionPool(urllib3.HTTPConnectionPool):
    ConnectionCls = PublicOnlyHTTPConnection


class PublicOnlyHTTPSConnectionPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = PublicOnlyHTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    """requests' adapter whose every new connection goes only to a public address."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": PublicOnlyHTTPConnectionPool,
            "https": PublicOnlyHTTPSConnectionPool,
        }


def public_only_session(trusted_origin: str = "") -> requests.Session:
    """A session for links found in answers: public addresses only, no proxies from the
    environment (a proxy would connect on our behalf, unchecked).

    trusted_origin (the configured API base URL) is exempt: it is trusted by configuration,
    which is how a simulator on loopback serves its videos.
    """
    session = requests.Session()
    session.trust_env = False
    session.mount("http://", PublicOnlyAdapter())
    session.mount("https://", PublicOnlyAdapter())
    if trusted_origin:
        parts = urlsplit(trusted_origin)
        session.mount(f"{parts.scheme}://{parts.netloc}/", HTTPAdapter())
    return session
