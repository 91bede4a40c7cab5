"""Certificates of a party's TLS: its CA and the node certificates it issues, read and
described. No files and no network: times are passed in, PEM bytes come and go."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hotline.domain.errors import InvalidInput

#: How long a party's CA lasts; node certificates are re-issued from it (``tls issue``).
CA_DAYS = 3650
#: Default life of a node certificate.
NODE_DAYS = 365
#: Certificates start this far back, so a peer whose clock is a little behind accepts them.
BACKDATE = timedelta(minutes=5)

_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Issued:
    """A private key and its certificate, both PEM."""

    key: bytes
    cert: bytes


def parse_hosts(hosts: Iterable[str]) -> list[x509.GeneralName]:
    """Host names and IP addresses for a certificate's subjectAltName."""
    names: list[x509.GeneralName] = []
    for host in hosts:
        text = host.strip().lower()
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(text)))
            continue
        except ValueError:
            pass
        if len(text) > 253 or not all(_DNS_LABEL.match(label) for label in text.split(".")):
            raise InvalidInput(
                "host", f"{host!r} is neither a DNS name nor an IP address", hint="e.g. us-node-1"
            )
        names.append(x509.DNSName(text))
    if not names:
        raise InvalidInput(
            "host",
            "the node certificate needs at least one name",
            hint="give each name and address peers use in the node's URLs: --host HOST",
        )
    return names


def _name(party: str, role: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"hotline {party}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{party} hotline {role}"),
        ]
    )


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _check_window(not_before: datetime, not_after: datetime) -> None:
    if not_before.tzinfo is None or not_after.tzinfo is None:
        raise InvalidInput("validity", "give times with a time zone")
    if not_after <= not_before:
        raise InvalidInput("validity", "the certificate would end before it starts")


def make_ca(party: str, *, not_before: datetime, not_after: datetime) -> Issued:
    """A new party CA: an ECDSA P-256 key and its self-signed CA certificate."""
    _check_window(not_before, not_after)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(party, "CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    return Issued(_pem_key(key), cert.public_bytes(serialization.Encoding.PEM))


def issue_node(
    ca: Issued,
    party: str,
    hosts: Iterable[str],
    *,
    not_before: datetime,
    not_after: datetime,
) -> Issued:
    """A new node key and certificate signed by ``ca``: serverAuth and clientAuth, with
    ``hosts`` (DNS names, IP addresses) as subjectAltName. It cannot outlive the CA."""
    _check_window(not_before, not_after)
    names = parse_hosts(hosts)
    ca_cert = load_cert(ca.cert, "tls_ca")
    ca_key = serialization.load_pem_private_key(ca.key, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise InvalidInput("tls_ca", "the CA key is not an ECDSA key")
    if not_after > ca_cert.not_valid_after_utc:
        raise InvalidInput(
            "days",
            f"the party CA expires on {ca_cert.not_valid_after_utc:%Y-%m-%d}; the node "
            "certificate cannot outlive it",
            hint="give fewer --days",
        )
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(party, "node"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(_pem_key(key), cert.public_bytes(serialization.Encoding.PEM))


def load_cert(pem: bytes, field: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise InvalidInput(field, f"not a PEM certificate: {exc}") from exc


def hosts_of(cert: x509.Certificate) -> list[str]:
    """The DNS names and IP addresses a certificate holds."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n.value) for n in names if isinstance(n, x509.DNSName | x509.IPAddress)]


def describe(cert: x509.Certificate) -> dict[str, Any]:
    """What ``hotline tls show`` prints of one certificate."""
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "hosts": hosts_of(cert),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
    }


def ca_line(pem: str | None) -> str:
    """A pinned CA in one line: its subject and SHA-256 fingerprint."""
    if pem is None:
        return "none: plain http, no TLS CA to pin"
    info = describe(load_cert(pem.encode("ascii"), "tls_ca"))
    return f"{info['subject']}, SHA-256 {info['sha256']}"


def problems(ca: x509.Certificate, node: x509.Certificate, key: bytes, now: datetime) -> list[str]:
    """What is wrong with a node certificate, its key and its CA (empty: nothing)."""
    found = []
    try:
        node.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        found.append("the node certificate is not issued by the party CA")
    try:
        private = serialization.load_pem_private_key(key, password=None)
        if private.public_key() != node.public_key():
            found.append("the node key does not match the node certificate")
    except (ValueError, TypeError) as exc:
        found.append(f"the node key cannot be read: {exc}")
    for what, cert in (("party CA", ca), ("node certificate", node)):
        if now < cert.not_valid_before_utc:
            found.append(f"the {what} is not valid before {cert.not_valid_before_utc}")
        if now > cert.not_valid_after_utc:
            found.append(f"the {what} expired on {cert.not_valid_after_utc}")
    return found
