"""The 48-bit payload and its 16-bit check.

Layout (most significant bit first):
  2 bits   Label value (1 AI-generated, 2 possibly, 3 suspected; 0 is unused)
  8 bits   first byte of SHA-256 over the ContentProducer code (a check, not an identifier)
  38 bits  first 38 bits of SHA-256 over the ProduceID
followed by CRC-16/CCITT-FALSE over those 48 bits (6 bytes). A decode is accepted only when the CRC matches
and the Label value is 1-3, so a random picture passes with probability about 3/4 * 2^-16 per decode tried.

The payload cannot be turned back into the ProduceID (it is a hash): it resolves to the implicit label by
comparison — with the label still in the file's metadata, or with the producer/ProduceID a platform looks up.
"""

from __future__ import annotations

import hashlib

import numpy as np

PAYLOAD_BITS = 48
CRC_BITS = 16


def _h(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def make_payload(*, label: str, producer: str, produce_id: str) -> int:
    lv = int(label)
    if lv not in (1, 2, 3):
        raise ValueError("label must be 1, 2 or 3")
    return (lv << 46) | ((_h(producer) >> 56) << 38) | (_h(produce_id) >> (64 - 38))


def split_payload(p: int) -> dict:
    return {"label": str(p >> 46), "producer_check": f"{(p >> 38) & 0xFF:02x}",
            "produce_id_hash": f"{p & ((1 << 38) - 1):010x}"}


def matches(p: int, *, producer: str | None = None, produce_id: str | None = None) -> dict:
    """Which given label fields the payload agrees with (None where not given)."""
    want = make_payload(label="1", producer=producer or "", produce_id=produce_id or "")
    out = {}
    if producer is not None:
        out["producer"] = ((p >> 38) & 0xFF) == ((want >> 38) & 0xFF)
    if produce_id is not None:
        out["produce_id"] = (p & ((1 << 38) - 1)) == (want & ((1 << 38) - 1))
    return out


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def encode(p: int) -> np.ndarray:
    """The 64 coded bits (payload then CRC) as a 0/1 array."""
    word = (p << CRC_BITS) | crc16(p.to_bytes(6, "big"))
    return np.array([(word >> (63 - i)) & 1 for i in range(64)], dtype=np.uint8)


def decode(bits: np.ndarray) -> int | None:
    """The payload if the CRC and the Label value check, else None."""
    word = 0
    for b in bits:
        word = (word << 1) | int(b)
    p, crc = word >> CRC_BITS, word & 0xFFFF
    if crc16(p.to_bytes(6, "big")) != crc or (p >> 46) == 0:
        return None
    return p


# ------------------------------------------------------------------ error correction
# Rate-1/2 convolutional code, constraint length 7 (generators 133/171 octal, the one used by 802.11 and
# Voyager), terminated with 6 zero bits, decoded by soft-decision Viterbi: a few weak cells no longer sink a
# decode, which is what lets a faint mark survive JPEG and downscaling.
K = 7
G = (0o133, 0o171)
INFO_BITS = PAYLOAD_BITS + CRC_BITS
CODED_BITS = 2 * (INFO_BITS + K - 1)
_NS = 1 << (K - 1)


def _parity(x: int) -> int:
    return bin(x).count("1") & 1


# output bits for (state, input): state holds the previous K-1 bits, newest in the high bit
_OUT = np.array([[[_parity(((b << (K - 1)) | s) & g) for g in G] for b in (0, 1)] for s in range(_NS)],
                dtype=np.int8)
_NEXT = np.array([[((b << (K - 1)) | s) >> 1 for b in (0, 1)] for s in range(_NS)], dtype=np.int64)


def conv_encode(bits: np.ndarray) -> np.ndarray:
    s, out = 0, []
    for b in list(bits) + [0] * (K - 1):
        out.extend(_OUT[s, int(b)])
        s = int(_NEXT[s, int(b)])
    return np.array(out, dtype=np.uint8)


def viterbi(soft: np.ndarray) -> np.ndarray:
    """soft: CODED_BITS values, positive = 1. Returns the INFO_BITS most likely information bits."""
    steps = len(soft) // 2
    sgn = 2.0 * _OUT - 1.0                                 # (state, input, 2) expected signs
    metric = np.full(_NS, -np.inf)
    metric[0] = 0.0
    prev_state = np.zeros((steps, _NS), dtype=np.int64)
    prev_bit = np.zeros((steps, _NS), dtype=np.int8)
    src = np.repeat(np.arange(_NS), 2)
    inp = np.tile(np.array([0, 1]), _NS)
    dst = _NEXT[src, inp]
    for t in range(steps):
        cand = metric[src] + (sgn[src, inp] * soft[2 * t: 2 * t + 2]).sum(axis=1)
        order = np.lexsort((-cand, dst))                   # per destination, best candidate first
        first = order[np.r_[True, dst[order][1:] != dst[order][:-1]]]
        new = np.full(_NS, -np.inf)
        new[dst[first]] = cand[first]
        prev_state[t, dst[first]] = src[first]
        prev_bit[t, dst[first]] = inp[first]
        metric = new
    s, out = 0, []
    for t in range(steps - 1, -1, -1):
        out.append(int(prev_bit[t, s]))
        s = int(prev_state[t, s])
    return np.array(out[::-1][:INFO_BITS], dtype=np.uint8)
