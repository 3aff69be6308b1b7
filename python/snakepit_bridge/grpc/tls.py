"""TLS and the token of the container worker server: credentials from PEM files, re-read when they change.

Kubernetes updates a mounted Secret in place (an atomic symlink swap) and
cert-manager renews certificates before they expire: the credentials are
"dynamic" (grpcio asks before each new connection's handshake), so a renewed
certificate is served from the next connection on without a restart.
Connections already open keep the certificate they were made with.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, List, Optional, Tuple

import grpc

log = logging.getLogger("snakepit_bridge.tls")

TOKEN_ENV = "SNAKEPIT_TOKEN"


class ConfigProblem(ValueError):
    """A flag whose value cannot be used; the message names the flag."""


def _read(flag: str, path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConfigProblem(f"{flag}: cannot read {path!r}: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ConfigProblem(f"{flag}: {path!r} is empty")
    return data


def _fingerprint(paths: List[str]) -> Tuple[Any, ...]:
    out = []
    for path in paths:
        try:
            st = os.stat(path)  # follows the Secret volume's symlinks
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


class _CertificateFiles:
    """The key pair (and client CA) as a grpcio certificate configuration, rebuilt when a file changes."""

    def __init__(self, cert: str, key: str, client_ca: Optional[str]) -> None:
        self._files = [("--tls-cert", cert), ("--tls-key", key)]
        if client_ca:
            self._files.append(("--tls-client-ca", client_ca))
        self._lock = threading.Lock()
        self._seen = _fingerprint([p for _, p in self._files])
        self.initial = self._load()

    def _load(self) -> Any:
        data = [_read(flag, path) for flag, path in self._files]
        ca = data[2] if len(data) > 2 else None
        return grpc.ssl_server_certificate_configuration([(data[1], data[0])], root_certificates=ca)

    def fetch(self) -> Any:
        """grpcio's fetcher: a new configuration when a file changed, else None (keep the current one)."""
        now = _fingerprint([p for _, p in self._files])
        with self._lock:
            if now == self._seen:
                return None
            try:
                config = self._load()
            except ConfigProblem as exc:  # half-written rotation: keep serving the old pair
                log.warning("TLS files changed but cannot be used yet (%s); keeping the current ones", exc)
                return None
            self._seen = now
        log.info("TLS files changed: new connections use the new certificate")
        return config


def server_credentials(cert: str, key: str, client_ca: Optional[str] = None) -> Any:
    """TLS server credentials; with ``client_ca``, clients must present a certificate it signed (mTLS)."""
    files = _CertificateFiles(cert, key, client_ca)
    return grpc.dynamic_ssl_server_credentials(files.initial, files.fetch,
                                               require_client_authentication=client_ca is not None)


def read_token(token_file: Optional[str]) -> Optional[str]:
    """The token every BridgeService call must carry: ``--token-file`` (trimmed), else ``SNAKEPIT_TOKEN``."""
    if token_file:
        return _read("--token-file", token_file).decode("utf-8", "replace").strip()
    return os.environ.get(TOKEN_ENV) or None
