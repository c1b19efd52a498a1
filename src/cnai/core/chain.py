"""Hash chains: the one home for canonical JSON, the genesis link and the walk that checks a chain.

A chain is a sequence of records numbered 1, 2, 3 ...; each stores the previous record's hash and its own,
computed over its content and that previous hash, so changing, removing or reordering any record breaks
every later link. Used by the gateway request log (cnai.gateway.chainlog) and the creative log
(cnai.provenance.store); each keeps its own record layout and wording, this module only the mechanism.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

GENESIS = "0" * 64  # the "previous hash" of record 1

# what LinkChecker.check reports; callers word these for their own readers
MISSING, LINK, CONTENT, MALFORMED = "missing", "link", "content", "malformed"


def canonical(obj: Any) -> bytes:
    """Canonical JSON (sorted keys, no spaces, UTF-8): the bytes a record hash covers."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LinkChecker:
    """Walk one chain in order. check() returns None for a good record, else MISSING (a sequence number was
    skipped), LINK (its previous-hash field is not the previous record's hash), CONTENT (its content does not
    give its hash) or MALFORMED (its content cannot be read: compute raised ValueError/TypeError).

    Start from GENESIS and 1, or from a checkpoint (the last hash and number of records pruned before).
    """

    def __init__(self, prev: str = GENESIS, seq: int = 1):
        self.prev = prev        # hash the next record must link to
        self.expect = seq       # number the next record must carry

    def check(self, seq: int, prev: str, digest: str, compute: Callable[..., str], *args) -> str | None:
        """compute(*args) recomputes the record's hash (only called when the numbering and link are right)."""
        if seq != self.expect:
            return MISSING
        if prev != self.prev:
            return LINK
        try:
            calc = compute(*args)
        except (ValueError, TypeError):
            return MALFORMED
        if calc != digest:
            return CONTENT
        self.prev, self.expect = digest, seq + 1
        return None
