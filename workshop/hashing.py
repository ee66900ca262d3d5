"""The one keyed hash: HMAC-SHA256 with the app's secret key."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def keyed_hash(message: str) -> str:
    """Hex digest of `message` keyed with SECRET_KEY: short secrets (seat codes, addresses) in a
    copied database or a counter cannot be found again by trying every value without the key."""
    key = current_app.config["SECRET_KEY"]
    key = key.encode() if isinstance(key, str) else key
    # surrogatepass: a user name from JSON may hold a lone surrogate, still just text to hash.
    return hmac.new(key, message.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
