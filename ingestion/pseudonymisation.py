"""Personal codes leave the door as keyed hashes (SPEC 4).

HMAC-SHA256 with a secret from the settings: the same person gets the same key in every
register version (so persons can be counted once a year) but nobody without the secret can
recompute a key from a personal code. Keys are base32 (letters and digits 2-7) so that no
hash can ever look like an 11-digit personal code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

PERSONAL_CODE_IN_TEXT = re.compile(r"(?<![0-9])[1-6][0-9]{10}(?![0-9])")


def person_key(personal_code: str, secret: bytes) -> str:
    digest = hmac.new(secret, personal_code.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()


def scrub_personal_codes(text: str, secret: bytes) -> str:
    """Replace anything shaped like a personal code in free text (quarantined lines)."""
    return PERSONAL_CODE_IN_TEXT.sub(lambda m: "pk:" + person_key(m.group(0), secret), text)


KEY_FINGERPRINT_MESSAGE = b"crimestat key fingerprint v1"


def key_fingerprint(secret: bytes) -> str:
    """HMAC-SHA256 of a constant under the key (hex): the warehouse keeps it to recognise the
    key it was loaded with, and it reveals nothing of the key or of any person's key."""
    return hmac.new(secret, KEY_FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()
