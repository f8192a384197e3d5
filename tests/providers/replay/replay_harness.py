"""Replay harness (used by tests/providers/replay and bench/bench_fetch.py): the real providers and client libraries against recorded wire formats.

A local HTTPS server on 127.0.0.1 answers for the providers' real host names with a
certificate signed by a certificate authority made for the test session (``cryptography``),
and a CONNECT proxy on 127.0.0.1 tunnels every ``https://`` request to it. Clients are
pointed at them the way a user would point them at a corporate proxy: ``HTTPS_PROXY`` and
``SSL_CERT_FILE`` for httpx (FRED, CoinGecko, Fiscal Data, CFTC) and for curl_cffi under
yfinance (``CURL_CA_BUNDLE``), ccxt's own ``httpsProxy`` setting for the exchanges. Nothing
leaves 127.0.0.1: name resolution and connections to anything else fail (``loopback_only``).

Routes are ``(host, path) -> handler(request) -> Reply``; each test installs its own and
reads ``server.log`` (host, path, query) to count requests.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HOSTS = (
    "api.stlouisfed.org",
    "fred.stlouisfed.org",
    "api.coingecko.com",
    "pro-api.coingecko.com",
    "api.fiscaldata.treasury.gov",
    "publicreporting.cftc.gov",
    "fc.yahoo.com",
    "query1.finance.yahoo.com",
    "query2.finance.yahoo.com",
    "guce.yahoo.com",
    "consent.yahoo.com",
    "api.binance.com",
    "fapi.binance.com",
    "api.bybit.com",
    "www.okx.com",
)


@dataclass
class Reply:
    """A recorded answer: status, body, headers; ``delay`` seconds before it; ``cut`` closes
    the connection after that many body bytes (a truncated answer)."""

    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: int | None = None

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        self.headers.setdefault("Content-Type", "application/json")
        return json.dumps(self.body).encode()


@dataclass(frozen=True)
class Seen:
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


Handler = Callable[[Seen], Reply]


class ReplayServer:
    """Routes and the log of requests, shared by the HTTPS server's threads."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.log: list[Seen] = []
        self.lock = threading.Lock()

    def route(self, host: str, path: str, handler: Handler | Reply) -> None:
        self.routes[(host, path)] = handler if callable(handler) else (lambda _seen: handler)

    def requests(self, host: str | None = None) -> list[Seen]:
        with self.lock:
            return [s for s in self.log if host is None or s.host == host]

    def reset(self) -> None:
        with self.lock:
            self.routes.clear()
            self.log.clear()

    def answer(self, seen: Seen) -> Reply:
        with self.lock:
            self.log.append(seen)
            handler = self.routes.get((seen.host, seen.path))
        if handler is None:
            return Reply(404, f"no recorded answer for {seen.host}{seen.path}")
        return handler(seen)


def _make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for :data:`HOSTS` and 127.0.0.1; returns (ca, cert, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "liqflow replay test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(h) for h in (*HOSTS, "localhost")]
    names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "replay")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths[0].write_bytes(ca.public_bytes(pem))
    paths[1].write_bytes(cert.public_bytes(pem))
    paths[2].write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def _https_handler(replay: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            host = (self.headers.get("Host") or "").split(":")[0]
            seen = Seen(host, url.path, dict(parse_qsl(url.query)), dict(self.headers.items()))
            reply = replay.answer(seen)
            if reply.delay:
                time.sleep(reply.delay)
            body = reply.payload()
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if reply.cut is not None:
                    self.wfile.write(body[: reply.cut])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)
            except OSError:
                self.close_connection = True

    return Handler


def _proxy_handler(target: tuple[str, int]) -> type[BaseHTTPRequestHandler]:
    """CONNECT host:443 -> a tunnel to the replay server, whatever the host."""

    class Proxy(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_CONNECT(self) -> None:
            upstream = socket.create_connection(target)
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            conns = [self.connection, upstream]
            try:
                while True:
                    ready, _, broken = select.select(conns, [], conns, 10)
                    if broken or not ready:
                        return
                    for c in ready:
                        data = c.recv(65536)
                        if not data:
                            return
                        (upstream if c is self.connection else self.connection).sendall(data)
            except OSError:
                return
            finally:
                upstream.close()
                self.close_connection = True

    return Proxy


@dataclass(frozen=True)
class Harness:
    server: ReplayServer
    proxy_url: str
    ca: Path


@contextmanager
def serve(folder: Path) -> Iterator[Harness]:
    """Start the replay server and its CONNECT proxy on 127.0.0.1 (CA files in ``folder``)."""
    ca, cert, key = _make_certificates(folder)
    replay = ReplayServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _https_handler(replay))
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _proxy_handler(httpd.server_address[:2]))
    proxy.daemon_threads = True
    threads = [
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        for s in (httpd, proxy)
    ]
    for t in threads:
        t.start()
    try:
        yield Harness(replay, f"http://127.0.0.1:{proxy.server_address[1]}", ca)
    finally:
        for s in (httpd, proxy):
            s.shutdown()
            s.server_close()
