"""Receiver ciphertexts as the platforms hand them out, and the lookup that opens them.

Youzan and Douyin encrypt receiver name, phone and address with a per-shop key kept on
their side; a client gets the plain text back only through the platform's decrypt API.
The simulator plays that with a keyed HMAC tag, deterministic per (system, field, plain
value) and not reversible (a client cannot decode it), and a dict ciphertext -> plain text.

Forms, from the platforms' SDK samples and copies of their documents:
    Youzan   ``$<tag>$1$`` (PLATFORMS.md; clients test a value for ``$1$``)
    Douyin   phone ``$$<tag>*<key id>$1$$``; name and address ``##<tag>*<key id>#1##``
The tag and key id are base64 like the real ones; their length is the simulator's choice.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["Vault"]

_KEY_ID = base64.b64encode(b"orderhub-sim-key-1").decode()


class Vault:
    """Seals plain receiver values into ciphertexts and opens the ones it sealed."""

    def __init__(self, key: bytes = b"orderhub-simulator-shop-key") -> None:
        self._key = key
        self._sealed: dict[tuple[str, str], tuple[str, str]] = {}

    def seal(self, system: str, kind: str, plain: str) -> str:
        """The ciphertext of `plain`, a receiver `kind` of `system`; "" stays ""."""
        if not plain:
            return plain
        message = f"{system}|{kind}|{plain}".encode()
        tag = base64.b64encode(hmac.new(self._key, message, hashlib.sha256).digest()).decode()
        cipher = _form(system, kind, tag)
        self._sealed[(system, cipher)] = (kind, plain)
        return cipher

    def open(self, system: str, cipher: str) -> tuple[str, str] | None:
        """(kind, plain text) behind a ciphertext `system` handed out, else None."""
        return self._sealed.get((system, cipher))


def _form(system: str, kind: str, tag: str) -> str:
    if system == "youzan":
        return f"${tag}$1$"
    if kind == "phone":
        return f"$${tag}*{_KEY_ID}$1$$"
    return f"##{tag}*{_KEY_ID}#1##"
