"""A throw-away self-signed certificate for a local SMTP server, and SSL contexts around it."""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

#: Long enough for any demo or test run, short enough that a leaked key is soon worthless.
VALIDITY = timedelta(days=2)


@dataclass(frozen=True)
class SelfSignedCertificate:
    """A certificate valid for ``localhost`` and ``127.0.0.1``, with its private key (PEM)."""

    certificate_pem: bytes
    private_key_pem: bytes

    @classmethod
    def generate(cls, *, now: datetime, common_name: str = "localhost") -> SelfSignedCertificate:
        """A fresh P-256 key and a certificate valid from a minute before ``now``."""
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        alternative_names = x509.SubjectAlternativeName(
            [
                x509.DNSName(common_name),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("::1")),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + VALIDITY)
            .add_extension(alternative_names, critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            # Key identifiers keep strict X.509 verification (newer OpenSSL/Python) happy.
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False
            )
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cls(certificate.public_bytes(serialization.Encoding.PEM), key_pem)

    def server_context(self) -> ssl.SSLContext:
        """A server-side context presenting this certificate."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # ssl can load a chain only from files; they live just long enough to be read.
        with tempfile.TemporaryDirectory() as directory:
            cert_file, key_file = Path(directory, "cert.pem"), Path(directory, "key.pem")
            cert_file.write_bytes(self.certificate_pem)
            key_file.touch(mode=0o600)
            key_file.write_bytes(self.private_key_pem)
            context.load_cert_chain(cert_file, key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate only, hostname checks on."""
        return ssl.create_default_context(cadata=self.certificate_pem.decode("ascii"))
