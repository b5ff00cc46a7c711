"""A private certificate authority and a server certificate for the demo's and tests' MQTT over TLS.

Deployments bring their own certificates (``certfile``/``keyfile`` in their mosquitto.conf, see
deploy/mosquitto.conf); the demo makes a throwaway CA with the stock ``openssl`` tool so that TLS can be tried
and tested end to end here: clients verify the broker against ``ca.crt``.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from gateway.runtime.errors import ServiceStartError

_DAYS = 825  # the longest validity browsers and most TLS stacks still accept for a server certificate


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


def _openssl(*args: str) -> None:
    try:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
    except FileNotFoundError as exc:
        raise ServiceStartError("openssl not found: run `make install` (scripts/install-system.sh)") from exc
    except subprocess.CalledProcessError as exc:
        raise ServiceStartError(f"openssl {args[0]} failed: {exc.stderr.decode()[-500:]}") from exc


def self_signed(directory: Path, hostnames: tuple[str, ...] = ("localhost",), ips: tuple[str, ...] = ("127.0.0.1",)
                ) -> TlsFiles:  # fmt: skip
    """A CA and a server certificate for ``hostnames``/``ips`` under ``directory`` (kept across runs)."""
    files = TlsFiles(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    if all(p.exists() for p in (files.ca_file, files.cert_file, files.key_file)):
        return files
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, csr, ext = directory / "ca.key", directory / "server.csr", directory / "server.ext"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(files.ca_file),
             "-days", str(_DAYS), "-subj", "/CN=Vigie demo CA")  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(files.key_file), "-out", str(csr),
             "-subj", f"/CN={hostnames[0]}")  # fmt: skip
    names = [f"DNS:{h}" for h in hostnames] + [f"IP:{ip}" for ip in ips]
    ext.write_text(f"subjectAltName={','.join(names)}\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(files.ca_file), "-CAkey", str(ca_key), "-CAcreateserial",
             "-out", str(files.cert_file), "-days", str(_DAYS), "-extfile", str(ext))  # fmt: skip
    for private in (ca_key, files.key_file):
        private.chmod(0o600)
    return files
