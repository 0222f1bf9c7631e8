"""Names made from generation ids, which hold whatever a server sends: `:`, `/`, `../`, a leading `-`."""

from __future__ import annotations

import hashlib
import re


def unique_name(generation_id: str) -> str:
    """A name safe as a file name on every OS and as a widget key, and unique per id.

    Ids may differ only in characters the readable part cannot keep ("a:b", "a/b"), so a hash
    of the whole id follows it.
    """
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", generation_id).strip("_")[:48] or "video"
    digest = hashlib.sha256(generation_id.encode()).hexdigest()[:12]
    return f"{readable}-{digest}"
