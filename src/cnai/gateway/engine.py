"""Policy decisions on text: find spans, pick actions, redact. Pure functions over one text."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnai.gateway.matching import KeywordScanner, PIScanner, load_keywords
from cnai.gateway.policy import Direction, Policy, strongest


@dataclass
class Decision:
    action: str = "allow"
    findings: list[dict] = field(default_factory=list)   # {kind, category, action} — never the matched text
    text: str | None = None                               # text after redaction

    def merge(self, other: Decision) -> None:
        self.action = strongest([self.action, other.action])
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


class StreamGuard:
    """Chunk-proof interception of one streamed choice.

    Every chunk is appended to the text seen so far and scanned with enough left context that a term split
    over chunks is still found. Only the part that can no longer become (part of) a term is released; the
    held tail is the longest suffix that is a prefix of some term, so it is the shortest hold that is safe.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        self.acc = ""
        self.released = 0
        self.blocked = False
        self.done = False          # the choice's finish event has been forwarded
        self.findings: list[dict] = []
        self._logged: set[tuple[int, int, str]] = set()

    def feed(self, delta: str) -> str:
        """Return the text safe to forward now ('' if none); sets self.blocked when the policy blocks."""
        if self.blocked:
            return ""
        self.acc += delta
        kw = self.engine.keywords
        start = max(0, self.released - kw.max_len)
        window = self.acc[start:]
        direction = self.engine.policy.output
        for s, e, _k, cat in kw.find(window):
            a = direction.keyword_action(cat)
            key = (s + start, e + start, cat)
            if a == "allow" or key in self._logged:
                continue
            # an ASCII term at the very end may still grow into a longer word: wait for more text
            if e == len(window) and window[s:e].isascii():
                continue
            self._logged.add(key)
            self.findings.append({"kind": "kw", "category": cat, "action": a})
            if a == "block":
                self.blocked = True
                return ""
        hold = kw.holdback(self.acc)
        upto = max(self.released, len(self.acc) - hold)
        out = self.acc[self.released:upto]
        self.released = upto
        return out

    def finish(self) -> str:
        """End of stream: the held tail is final now; check it without the growth exemption."""
        if self.blocked:
            return ""
        kw = self.engine.keywords
        start = max(0, self.released - kw.max_len)
        window = self.acc[start:]
        for s, e, _k, cat in kw.find(window):
            a = self.engine.policy.output.keyword_action(cat)
            key = (s + start, e + start, cat)
            if a == "allow" or key in self._logged:
                continue
            self._logged.add(key)
            self.findings.append({"kind": "kw", "category": cat, "action": a})
            if a == "block":
                self.blocked = True
                return ""
        out = self.acc[self.released:]
        self.released = len(self.acc)
        return out
