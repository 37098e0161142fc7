"""Client-certificate authentication: a TLS server on loopback that requires our certificate,
under a private CA given as the feed's ``ca_bundle``."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.service import Collector, FeedInput, FeedService

BUNDLE = json.dumps(
    {"type": "bundle", "id": "bundle--6b0c8a64-0f67-4cc7-9c2e-1f5b8c1d2e3f", "objects": []}
).encode()


def _cert(
    name: str, key: Any, issuer: tuple[x509.Name, Any] | None, ca: bool = False, san: bool = False
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        import ipaddress

        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path, str, str, list[str]]]:
    """(url, CA file, client cert PEM, client key PEM, seen client CNs)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("test CA", ca_key, None, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _cert("127.0.0.1", server_key, (ca.subject, ca_key), san=True)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _cert("feed-client", client_key, (ca.subject, ca_key))
    (tmp_path / "ca.pem").write_text(_pem(ca))
    (tmp_path / "server.pem").write_text(_pem(server_cert) + _key_pem(server_key))
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            peer: Any = self.connection.getpeercert()
            seen.append(dict(x[0] for x in peer["subject"])["commonName"])
            self.send_response(200)
            self.send_header("Content-Length", str(len(BUNDLE)))
            self.end_headers()
            self.wfile.write(BUNDLE)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem")
    context.load_verify_locations(tmp_path / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield (
            f"https://127.0.0.1:{httpd.server_address[1]}/b.json",
            tmp_path / "ca.pem",
            _pem(client_cert),
            _key_pem(client_key),
            seen,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_client_certificate_feed(
    database: Database, settings: Settings, tls_server: tuple[str, Path, str, str, list[str]]
) -> None:
    """The stored client certificate and key authenticate us; without them the run fails."""
    url, ca_file, cert_pem, key_pem, seen = tls_server
    with database.session() as session:
        service = FeedService(session, settings)
        service.add(
            FeedInput(
                name="tls",
                type="stix-url",
                url=url,
                auth_type="client-cert",
                auth_config={"ca_bundle": str(ca_file)},
                secrets={"client_cert": cert_pem, "client_key": key_pem},
            )
        )
        service.add(
            FeedInput(
                name="nocert",
                type="stix-url",
                url=url,
                auth_type="client-cert",
                auth_config={"ca_bundle": str(ca_file)},
            )
        )
    ok = Collector(database, settings).run("tls")
    assert ok.status == "ok", ok.error
    assert seen == ["feed-client"]
    refused = Collector(database, settings).run("nocert")
    assert refused.status == "error"
