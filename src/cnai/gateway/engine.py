"""Policy decisions on text: find spans, pick actions, redact. Pure functions over one text."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnai.gateway.matching import DIGIT_ONLY_PI, KeywordScanner, PIScanner, load_keywords
from cnai.gateway.policy import Direction, Policy, strongest


@dataclass
class Decision:
    action: str = "allow"
    findings: list[dict] = field(default_factory=list)   # {kind, category, action} — never the matched text
    text: str | None = None                               # text after redaction

    def merge(self, other: Decision) -> None:
        if other.action != "allow":          # "allow" is the weakest: nothing to compare (the common case)
            self.action = strongest([self.action, other.action])
        if other.findings:
            self.findings.extend(other.findings)


class Engine:
    """Everything the proxy needs from a policy, built once per (re)load."""

    def __init__(self, policy: Policy, extra_keywords: list[str] | None = None):
        self.policy = policy
        self.keywords: KeywordScanner = load_keywords(policy.keyword_library, extra_keywords)
        self.pi_in = PIScanner({t for t, a in policy.input.pi.items() if a != "allow"})
        self.pi_out = PIScanner({t for t, a in policy.output.pi.items() if a != "allow"})

    def _spans(self, text: str, direction: Direction, pi: PIScanner) -> list[tuple[int, int, str, str, str]]:
        out = []
        for s, e, kind, cat in pi.find(text):
            a = direction.pi.get(cat, "allow")
            if a != "allow":
                out.append((s, e, kind, cat, a))
        for s, e, kind, cat in self.keywords.find(text):
            a = direction.keyword_action(cat)
            if a != "allow":
                out.append((s, e, kind, cat, a))
        return out

    def check(self, text: str, *, output: bool) -> Decision:
        direction = self.policy.output if output else self.policy.input
        spans = self._spans(text, direction, self.pi_out if output else self.pi_in)
        d = Decision(text=text)
        if not spans:
            return d
        d.findings = [{"kind": k, "category": c, "action": a} for _s, _e, k, c, a in spans]
        d.action = strongest(a for *_r, a in spans)
        if d.action == "redact":
            d.text = self.redact(text, [(s, e, c) for s, e, _k, c, a in spans if a == "redact"])
        return d

    def redact(self, text: str, spans: list[tuple[int, int, str]]) -> str:
        parts, pos = [], 0
        for s, e, cat in sorted(spans):
            if s < pos:            # overlapping span: already covered
                s = pos
                if s >= e:
                    continue
            parts.append(text[pos:s])
            parts.append(self.policy.redaction.replace("{type}", cat))
            pos = e
        parts.append(text[pos:])
        return "".join(parts)

    def label(self, text: str) -> str:
        lab = self.policy.labels
        if not lab.text:
            return text
        return lab.text_notice + text if lab.position == "start" else text + lab.text_notice


# PI types found inside one "token" (a run of ASCII letters, digits and . _ % @ : + -, or digits split by single
# spaces; cnai.corpus.detect) and the longest raw span each can take, separators included. A streamed token
# can only become one of these while it is still growing, so the guard holds back at most this much of it.
TOKEN_PI_MAX = {"cn_resident_id": 24, "cn_mobile": 20, "cn_landline": 16, "bank_card": 24, "uscc": 24,
                "passport": 12, "hk_macao_permit": 12, "ip_address": 45, "email": 254}
_TOKCH = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._%@:+-")
_DIGIT_ONLY = DIGIT_ONLY_PI


class StreamGuard:
    """Chunk-proof interception of one streamed choice (keywords and PI).

    Every chunk is appended to the text seen so far and scanned with enough left context that a term or an
    identifier split over chunks is still found. Only text that can no longer become (part of) a match is
    released, with its redactions applied; the held tail is the shortest one that is safe:
    - keywords: the longest suffix that is a prefix of some term;
    - token PI (IDs, phones, cards, e-mail...): the trailing token while it can still grow into an identifier,
      at most TOKEN_PI_MAX of the enabled types (an 18-digit ID: 24 characters with separators);
    - other PI (names, addresses, plates) depend on context on both sides: the whole choice is held until it
      ends (``full_hold``), which costs time to first token and is recorded.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self._parts: list[str] = []   # everything received (for the log's hash)
        self.buf = ""                  # the working text: what is held plus the left context of a rescan
        self.base = 0                  # offset of buf[0] in the whole text
        self.released = 0              # offset up to which text has been forwarded
        self.blocked = False
        self.done = False              # the choice's finish event has been forwarded
        self.findings: list[dict] = []
        self._seen: set[tuple[int, int, str]] = set()
        out = engine.policy.output
        types = {t for t, a in out.pi.items() if a != "allow"}
        self.pi = engine.pi_out if types else None
        self.full_hold = bool(types - TOKEN_PI_MAX.keys())
        self.pi_cap = max((TOKEN_PI_MAX.get(t, 0) for t in types), default=0)
        self.letters_matter = bool(types - _DIGIT_ONLY)   # may a letters-only tail still become a match?
        # keywords cost nothing on output when no category has an action there
        self.kw = engine.keywords if any(a != "allow" for a in out.keywords.values()) else None
        # keywords are scanned once per delta, the automaton state carried over (O(delta), no rescan); with an
        # engine without that (the SWITCH in matching.py), each delta rescans the held text plus context
        self._ks = self.kw.stream() if self.kw is not None else None
        self._sc = self._ks.scan if self._ks is not None else None
        # keyword-only output rules: a delta without a new match releases all but the hold-back right in feed()
        self._lean = self._sc is not None and self.pi is None and not self.full_hold
        self._kwp: list[tuple[int, int, str, str, str]] = []   # keyword spans not acted on yet (whole-text offsets)
        self.ctx = max(self.kw.max_len if self.kw else 0, self.pi_cap)
        self._keep = self.ctx + (1024 if self.pi is not None else 0)   # left context a rescan may need

    @property
    def acc(self) -> str:
        """The whole text received so far."""
        return "".join(self._parts)

    def _pi_hold(self) -> int:
        """Length of the trailing token that could still grow into an identifier (0 if none), capped."""
        if not self.pi_cap:
            return 0
        buf, i = self.buf, len(self.buf)
        lo = max(0, i - self.pi_cap)
        has_sig = False
        while i > lo:
            c = buf[i - 1]
            if c in _TOKCH:
                has_sig = has_sig or c.isdigit() or c == "@"
            elif not (c == " " and i >= 2 and buf[i - 2].isdigit()):   # "138 1234 5678" is one token
                break
            i -= 1
        n = len(buf) - i
        return n if n and (has_sig or self.letters_matter) else 0

    def _window_start(self) -> int:
        """Left edge of the rescan in buf: context before the released point, widened to a token start."""
        s = max(0, self.released - self.base - self.ctx)
        if self.pi is not None:
            lo = max(0, s - 1024)
            while s > lo and self.buf[s - 1] in _TOKCH:
                s -= 1
        return s

    def _spans(self, start: int, final: bool):
        """Findings in buf[start:] as (s, e, kind, category, action) offsets in buf, 'allow' dropped."""
        window = self.buf[start:] if start else self.buf
        out_dir = self.engine.policy.output
        spans = []
        if self.kw is not None:
            for s, e, k, cat in self.kw.find(window):
                a = out_dir.keyword_action(cat)
                # an ASCII term at the very end may still grow into a longer word: not final yet
                if a != "allow" and (final or e != len(window) or not window[s:e].isascii()):
                    spans.append((s + start, e + start, k, cat, a))
        if self.pi is not None:
            for s, e, k, cat in self.pi.find(window):
                a = out_dir.pi.get(cat, "allow")
                if a != "allow":
                    spans.append((s + start, e + start, k, cat, a))
        return spans

    def _pi_spans(self, start: int):
        window = self.buf[start:] if start else self.buf
        pi = self.engine.policy.output.pi
        return [(s + start, e + start, k, cat, a) for s, e, k, cat in self.pi.find(window)
                if (a := pi.get(cat, "allow")) != "allow"]

    def _add_kw(self, hits) -> None:
        act = self.engine.policy.output.keyword_action
        for s, e, risk in hits:
            a = act(risk)
            if a != "allow":
                self._kwp.append((s, e, "kw", risk, a))

    def _release(self, final: bool) -> str:
        if self.blocked:
            return ""
        buf, base = self.buf, self.base
        rel = self.released - base            # released point in buf
        if self._ks is not None:              # keyword spans come from the incremental scan
            spans = [(s - base, e - base, k, c, a) for s, e, k, c, a in self._kwp] if self._kwp else []
            if self.pi is not None:
                spans += self._pi_spans(self._window_start())
        else:
            spans = self._spans(self._window_start(), final)
        if final:
            upto = len(buf)
        elif self.full_hold:
            upto = rel
        else:
            fresh = len(buf) - rel
            if self._ks is not None:
                kh = min(self._ks.hold, fresh)
            else:
                kh = self.kw.holdback(buf, fresh) if self.kw else 0
            upto = len(buf) - max(kh, self._pi_hold()) if self.pi_cap else len(buf) - kh
            for s, e, *_r in spans:     # never release part of a span that is not final yet
                if s < upto < e:
                    upto = s
        upto = max(upto, rel)
        redact = []
        if spans:
            for s, e, kind, cat, a in sorted(spans):
                key = (s + base, e + base, cat)
                if key in self._seen:
                    continue
                if e > upto:     # not released yet; a keyword match is certain already, so a block acts now
                    if not (a == "block" and kind == "kw"):
                        continue
                self._seen.add(key)
                self.findings.append({"kind": kind, "category": cat, "action": a})
                if a == "block":
                    self.blocked = True
                    return ""
                if a == "redact" and e > rel:
                    redact.append((max(s, rel) - rel, e - rel, cat))
            if self._kwp:
                seen = self._seen
                self._kwp = [x for x in self._kwp if (x[0], x[1], x[3]) not in seen]
        out = buf[rel:upto]
        self.released = base + upto
        if upto > self._keep + 4096:           # drop context no rescan can reach: feed stays O(delta)
            cut = upto - self._keep
            self.buf, self.base = buf[cut:], base + cut
        return self.engine.redact(out, redact) if redact else out

    def feed(self, delta: str) -> str:
        """Return the text safe to forward now ('' if none); sets self.blocked when the policy blocks."""
        if self.blocked:
            return ""
        self._parts.append(delta)
        self.buf += delta
        sc = self._sc
        if sc is not None:
            hits = sc.feed(delta)
            if hits:
                self._add_kw(self._ks.spans(hits))
            elif self._lean and not self._kwp:    # what _release would do here, without its general steps
                buf = self.buf
                n, rel = len(buf), self.released - self.base
                upto = n - sc.hold
                if upto <= rel:
                    return ""
                self.released = self.base + upto
                if upto > self._keep + 4096:
                    cut = upto - self._keep
                    self.buf, self.base = buf[cut:], self.base + cut
                return buf[rel:upto]
        return self._release(final=False)

    def finish(self) -> str:
        """End of stream: the held tail is final now; check it without the growth exemptions."""
        if self._ks is not None and not self.blocked:
            self._add_kw(self._ks.end())
        return self._release(final=True)
