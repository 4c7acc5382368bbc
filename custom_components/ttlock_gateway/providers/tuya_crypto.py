"""Signing and AES helpers for the Tuya Cloud OpenAPI.

Pure functions, no I/O: the request signature (HMAC-SHA256, hex, upper case) and
the ticket/PIN encryption used by the smart-lock endpoints.

Ticket scheme (see the reference): the cloud hands out ``ticket_key`` as hex of
AES-256-ECB/PKCS7(16-byte key) under the whole 32-character Access Secret. The PIN
is then AES-128-ECB/PKCS7 encrypted with that 16-byte key and sent as hex.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# Hex case of the encrypted PIN: lower. Tuya's doc examples show upper case, but
# hass-tuya-lock-bridge (custom_components/tuya_lock_bridge/api.py, confirmed on
# hardware) reports upper case is answered ``success: true`` while the lock
# decodes another PIN, so the guest's code never opens the door.
PIN_CASE_UPPER = False


def sorted_query_url(path: str, query: dict[str, str] | None) -> str:
    """Path plus ``?k=v&...`` sorted by key, not URL-encoded (as signed)."""
    if not query:
        return path
    return path + "?" + "&".join(f"{key}={query[key]}" for key in sorted(query))


def string_to_sign(method: str, body: bytes, path_with_sorted_query: str) -> str:
    """``METHOD\\nsha256_hex(body)\\n<signed headers: none>\\nurl``."""
    return "\n".join(
        (
            method.upper(),
            hashlib.sha256(body).hexdigest(),
            "",
            path_with_sorted_query,
        )
    )


def sign_request(
    *,
    access_id: str,
    secret: str,
    t: str,
    nonce: str,
    method: str,
    path_with_sorted_query: str,
    body: bytes,
    access_token: str = "",
) -> str:
    """Signature of one request.

    Token calls pass ``access_token=""`` (``client_id + t + nonce + stringToSign``);
    business calls pass the token (``client_id + access_token + t + nonce + ...``).
    """
    payload = (
        access_id
        + access_token
        + t
        + nonce
        + string_to_sign(method, body, path_with_sorted_query)
    )
    return (
        hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest().upper()
    )


def _ecb_encrypt(key: bytes, plain: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305
    return encryptor.update(padded) + encryptor.finalize()


def _ecb_decrypt(key: bytes, cipher_text: bytes) -> bytes:
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305
    padded = decryptor.update(cipher_text) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def aes_ecb_encrypt(key: bytes, plain: bytes) -> bytes:
    """AES-ECB with PKCS7 padding (key length picks AES-128/192/256)."""
    return _ecb_encrypt(key, plain)


def aes_ecb_decrypt(key: bytes, cipher_text: bytes) -> bytes:
    """Inverse of :func:`aes_ecb_encrypt`; ``ValueError`` on bad padding/length."""
    return _ecb_decrypt(key, cipher_text)


def decrypt_ticket_key(ticket_key_hex: str, access_secret: str) -> bytes:
    """Decrypt a ticket's ``ticket_key`` (AES-256-ECB, key = the Access Secret).

    Raises ``ValueError`` when the result is not a 16-byte key.
    """
    key = access_secret.encode()
    if len(key) != 32:
        raise ValueError("the Access Secret must be 32 characters")
    plain = _ecb_decrypt(key, bytes.fromhex(ticket_key_hex))
    if len(plain) != 16:
        raise ValueError("the ticket key is not a 16-byte key")
    return plain


def encrypt_pin(pin: str, ticket_key: bytes, *, upper: bool = PIN_CASE_UPPER) -> str:
    """Encrypt PIN digits with a decrypted ticket key (AES-128-ECB), as hex."""
    out = _ecb_encrypt(ticket_key, pin.encode()).hex()
    return out.upper() if upper else out
