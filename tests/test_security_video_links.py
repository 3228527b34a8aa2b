"""A video link from the API is fetched only from public addresses (or the configured API).

Every test here runs with a guard that refuses any connection to a non-loopback address,
so even a broken protection never sends a packet off this machine.
"""

import io
import socket

import pytest

from generations import wan_api
from generations.wan_api import DownloadOutcome, WanClient
from lib.public_fetch import is_public_address

from .support.scripted_http import API_KEY, MP4, Reply, scripted_server, video_reply

PUBLIC_LOOKING = "93.184.216.34"


@pytest.fixture(autouse=True)
def connections_off_this_machine(monkeypatch):
    """Every connect() to an address outside loopback is recorded and refused."""
    attempts = []
    real_connect = socket.socket.connect

    def connect(sock, address):
        if not ipaddress_is_loopback(address[0]):
            attempts.append(address[0])
            raise ConnectionRefusedError(f"test guard: no connection to {address[0]}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return attempts


def ipaddress_is_loopback(host):
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


@pytest.fixture
def api():
    with scripted_server() as server:
        yield server


@pytest.fixture
def elsewhere():
    """Another loopback server: the studio itself, a database console, a cloud metadata port."""
    with scripted_server() as server:
        yield server


@pytest.fixture
def wan_client(api):
    return WanClient(api.url, API_KEY, connect_timeout=1.0, read_timeout=1.0)


@pytest.fixture
def resolver(monkeypatch):
    """Make chosen names resolve to chosen addresses, as a hostile DNS answer would."""
    answers = {}
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in answers[host]
            ]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def download(wan_client, url):
    return wan_client.download(url, io.BytesIO(), max_bytes=1 << 20)


def test_the_configured_api_origin_is_trusted_even_on_loopback(api, wan_client):
    api.script(video_reply())
    assert download(wan_client, api.url + "/sim/videos/v.mp4?sig=1").outcome == DownloadOutcome.OK


def test_another_port_on_loopback_is_refused_without_a_request(wan_client, elsewhere):
    elsewhere.script(video_reply())

    result = download(wan_client, elsewhere.url + "/v.mp4")

    assert result.outcome == DownloadOutcome.INVALID
    assert "not a public address" in result.message
    assert elsewhere.received == []


def test_a_name_that_resolves_to_loopback_is_refused(wan_client, elsewhere, resolver):
    resolver["videos.example.com"] = ["127.0.0.1"]
    elsewhere.script(video_reply())
    port = elsewhere.server_address[1]

    result = download(wan_client, f"http://videos.example.com:{port}/v.mp4")

    assert result.outcome == DownloadOutcome.INVALID
    assert elsewhere.received == []


def test_every_address_of_a_name_is_checked_before_connecting(
    wan_client, elsewhere, resolver, connections_off_this_machine
):
    resolver["cdn.example.com"] = [PUBLIC_LOOKING, "127.0.0.1"]
    port = elsewhere.server_address[1]

    result = download(wan_client, f"http://cdn.example.com:{port}/v.mp4")

    assert result.outcome == DownloadOutcome.INVALID
    assert connections_off_this_machine == []  # not even the public-looking one was tried
    assert elsewhere.received == []


def test_a_redirect_to_loopback_is_refused(api, wan_client, elsewhere):
    api.script(Reply(302, b"", {"Location": elsewhere.url + "/admin/"}))
    elsewhere.script(video_reply())

    result = download(wan_client, api.url + "/v.mp4")

    assert result.outcome == DownloadOutcome.INVALID
    assert len(api.received) == 1
    assert elsewhere.received == []


def test_a_redirect_to_a_name_on_a_private_address_is_refused(api, wan_client, resolver):
    resolver["internal.example.com"] = ["10.1.2.3"]
    api.script(Reply(307, b"", {"Location": "http://internal.example.com/secrets"}))

    result = download(wan_client, api.url + "/v.mp4")

    assert result.outcome == DownloadOutcome.INVALID
    assert "10.1.2.3" in result.message


def test_three_redirects_are_followed(api, wan_client):
    api.script(
        Reply(302, b"", {"Location": "/hop1"}),
        Reply(301, b"", {"Location": api.url + "/hop2"}),
        Reply(307, b"", {"Location": "/hop3"}),
        video_reply(),
    )
    assert download(wan_client, api.url + "/v.mp4").outcome == DownloadOutcome.OK
    assert [request.path for request in api.received] == ["/v.mp4", "/hop1", "/hop2", "/hop3"]


def test_a_fourth_redirect_is_refused(api, wan_client):
    api.script(*[Reply(302, b"", {"Location": f"/hop{hop}"}) for hop in range(1, 5)])

    result = download(wan_client, api.url + "/v.mp4")

    assert (result.outcome, result.message) == (DownloadOutcome.INVALID, "more than 3 redirects")
    assert len(api.received) == 4


def test_a_redirect_to_another_scheme_is_refused(api, wan_client):
    api.script(Reply(302, b"", {"Location": "file:///etc/passwd"}))
    assert download(wan_client, api.url + "/v.mp4").outcome == DownloadOutcome.INVALID


def test_a_proxy_from_the_environment_is_not_used(api, wan_client, elsewhere, monkeypatch):
    """A proxy would connect on the studio's behalf, past the address check."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, elsewhere.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    api.script(video_reply())

    assert download(wan_client, api.url + "/v.mp4").outcome == DownloadOutcome.OK
    assert elsewhere.received == []


def test_the_api_key_is_not_sent_to_a_video_host(api, wan_client):
    api.script(video_reply(body=MP4))
    download(wan_client, api.url + "/v.mp4")
    assert "Authorization" not in api.received[0].headers


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "198.51.100.7",  # documentation
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 around 127.0.0.1
        "ff02::1",
        "not-an-address",
    ],
)
def test_non_public_addresses(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", [PUBLIC_LOOKING, "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses(address):
    assert is_public_address(address)


def test_the_refusal_is_logged_without_the_links_signature(wan_client, caplog, elsewhere):
    download(wan_client, elsewhere.url + "/v.mp4?signature=very-secret")
    assert "very-secret" not in caplog.text
    assert wan_api.__name__ in {record.name for record in caplog.records}
