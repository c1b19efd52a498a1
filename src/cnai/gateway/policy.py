"""The gateway policy file: what to do, per direction, with each PI type and keyword category.

Actions: allow (do nothing), log (record the finding), redact (replace the span; prompts, replies and
streams), block (refuse with the policy's refusal text). Categories are GB/T 45654 risk codes ("A.1.a"),
group prefixes ("A.1", "A") or "*" for any keyword; the most specific match wins.
"""

from __future__ import annotations

import datetime as _dt
import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

Action = Literal["allow", "log", "redact", "block"]
_ORDER = {"allow": 0, "log": 1, "redact": 2, "block": 3}


def strongest(actions) -> Action:
    return max(actions, key=_ORDER.__getitem__, default="allow")


class Direction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pi: dict[str, Action] = Field(default_factory=dict, description="PI type (cnai.corpus.detect.PI_TYPES) -> action")
    keywords: dict[str, Action] = Field(default_factory=dict, description="risk code / group / '*' -> action")

    def keyword_action(self, risk: str) -> Action:
        parts = risk.split(".")
        for i in range(len(parts), 0, -1):
            a = self.keywords.get(".".join(parts[:i]))
            if a:
                return a
        return self.keywords.get("*", "allow")


class Agreement(BaseModel):
    """One user who may receive replies without the explicit (visible) label: ai-labeling:9."""
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, description="the user id the gateway sees (X-CNAI-User)")
    agreement: str = Field(min_length=1, description="reference of the user agreement that states the user's own "
                           "labelling duties and liability (clause / version / signed copy id)")
    agreed: _dt.date = Field(description="date the user accepted it; no unlabelled reply before that day")
    until: _dt.date | None = Field(None, description="last day the opt-out holds (none: until removed)")

    @field_validator("until")
    @classmethod
    def _after(cls, v, info):
        agreed = info.data.get("agreed")
        if v is not None and agreed is not None and v < agreed:
            raise ValueError("until is before agreed")
        return v


class NoVisibleLabel(BaseModel):
    """ai-labeling:9 [confidence: secondary — the Measures' text seen as quoted]: at a user's request a provider
    may supply content without the explicit label, but only after the user agreement has set out the user's
    labelling duties and liability, and it must keep logs of that supply (who received it) for at least six
    months; the implicit (metadata) label stays. Off unless enabled; only registered users who ask get it."""
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    header: str = Field("x-cnai-no-visible-label", description="request header asking for it (value 1/true/yes)")
    body_field: str = Field("cnai_no_visible_label", description="or this request-body field (true); removed "
                            "before the request goes upstream")
    register_file: str | None = Field(None, description="YAML or CSV file of users (user, agreement, agreed[, "
                                      "until]); a relative path is read beside the policy file; reloaded with the policy")
    users: list[Agreement] = Field(default_factory=list, description="users listed in the policy itself")
    _index: dict[str, Agreement] | None = PrivateAttr(None)

    def find(self, user: str) -> Agreement | None:
        if self._index is None:
            self._index = {a.user: a for a in self.users}
        return self._index.get(user)


class Labels(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: bool = True
    text_notice: str = Field("（本内容由人工智能生成）",
                             description="explicit text label; GB 45438 5.1 wants an AI element and a generated element")
    position: Literal["start", "end"] = "end"
    images: bool = True
    producer: str | None = Field(None, description="27-character ContentProducer code (cnai label code USCC)")
    no_visible_label: NoVisibleLabel = Field(default_factory=NoVisibleLabel)


class Logging(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store_text: bool = Field(False, description="store full prompt/output text (default: hashes only)")
    retention_days: int = Field(190, ge=1, description="keep records this long (legal minimum: see log settings)")
    rotate_records: int = Field(1_000_000, ge=1000, description="start a new chain segment after this many records")
    rotate_mb: float = Field(256, gt=0, description="... or when the segment reaches this size (MB)")
    rotate_hours: float = Field(24, gt=0, description="... or this age; pruning deletes whole segments")
    group_commit: bool = Field(True, description="commit the records of one event-loop turn together (a kill -9 "
                               "can lose that turn's records, never break the chain); false: one commit each")
    sign_head_every_s: float = Field(1.0, ge=0, description="with CNAI_GATEWAY_SIGNING_KEY set: sign the chain "
                                     "head at most this often (0: after every record)")


class Suspension(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    violations: int = Field(5, ge=1, description="blocked requests within the window that suspend a user")
    window_hours: float = Field(24, gt=0)
    suspend_hours: float = Field(24, gt=0)


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    upstream_timeout_s: float = Field(120, gt=0)
    connect_timeout_s: float = Field(5, gt=0)
    upstream_max_connections: int = Field(
        1000, ge=1, description="upstream connections open at once per worker, for non-streamed calls (at most "
        "256 of them kept idle) and for streams alike (a separate pool each); beyond it requests wait for a "
        "free connection; read at start-up")


class Policy(BaseModel):
    """The gateway policy (YAML). `cnai gateway policy init` writes a commented default."""
    model_config = ConfigDict(extra="forbid")
    input: Direction = Field(default_factory=lambda: Direction(
        pi={"cn_resident_id": "redact", "cn_mobile": "redact", "bank_card": "redact"}, keywords={"*": "log"}))
    output: Direction = Field(default_factory=lambda: Direction(pi={}, keywords={"*": "block"}))
    refusal: str = "抱歉，该请求涉及不当内容，无法提供。(The request or reply was blocked by policy.)"
    redaction: str = Field("[{type}]", description="replacement for a redacted span; {type} is the PI type")
    keyword_library: list[str] = Field(default_factory=lambda: ["starter"],
                                       description="keyword bank files (the `cnai bank` format) or 'starter'")
    labels: Labels = Field(default_factory=Labels)
    logging: Logging = Field(default_factory=Logging)
    suspension: Suspension = Field(default_factory=Suspension)
    complaint_deadline_days: int = Field(15, ge=1, description="handling deadline stated on each ticket")
    limits: Limits = Field(default_factory=Limits)


DEFAULT_POLICY_YAML = """\
# cnai gateway policy. Validate with `cnai gateway policy check FILE`; schema: `cnai schema gateway-policy`.
# Actions: allow | log | redact | block.  Keyword categories: GB/T 45654 risk code (A.1.a), group (A.1, A) or "*".
input:                       # what users send (prompts)
  pi:                        # PI types: cnai.corpus.detect.PI_TYPES
    cn_resident_id: redact   # PIPL art. 28: ID numbers and financial accounts are sensitive PI
    cn_mobile: redact
    bank_card: redact
  keywords:
    "*": log                 # record prompts that touch the keyword library (generative-ai:14 records)
output:                      # what the model returns
  pi: {}
  keywords:
    "*": block               # generative-ai:14: stop generating and transmitting illegal content
refusal: "抱歉，该请求涉及不当内容，无法提供。(The request or reply was blocked by policy.)"
redaction: "[{type}]"
keyword_library: [starter]   # add files in the `cnai bank` format; `--keywords FILE` adds more
labels:
  text: true                 # explicit text label (ai-labeling:4, GB 45438 5.1: "AI" + "生成/合成")
  text_notice: "（本内容由人工智能生成）"
  position: end              # start | end
  images: true               # implicit metadata label in returned base64 images (GB 45438 metadata)
  producer: null             # your 27-character ContentProducer code: `cnai label code <USCC>`
  no_visible_label:          # ai-labeling:9: replies without the visible label, only for registered users who ask
    enabled: false           # and only after their agreement states their own labelling duties; logged (>= 6 months);
    header: x-cnai-no-visible-label   # the implicit label (image metadata, ProduceID) always stays
    body_field: cnai_no_visible_label # or "cnai_no_visible_label": true in the body (removed before upstream)
    register_file: null      # YAML/CSV file: user, agreement (reference), agreed (date)[, until]
    users: []                # or inline: - {user: u1, agreement: "TOS v3 §7", agreed: 2026-01-05}
logging:
  store_text: false          # hashes only by default (generative-ai:11 data minimisation)
  retention_days: 190        # >= 6 months (184 days): cybersecurity-law:23 network logs, ai-labeling:9
  rotate_records: 1000000     # a new chain segment after this many records,
  rotate_mb: 256              # or this size,
  rotate_hours: 24            # or this age; past retention_days whole segments are pruned (tombstone kept)
  group_commit: true          # one commit per event-loop turn (false: per record; slower, loses nothing on kill -9)
  sign_head_every_s: 1.0      # with CNAI_GATEWAY_SIGNING_KEY (Ed25519) set: signed chain head this often
suspension:                  # generative-ai:14(2) names warn/restrict/suspend but no numbers: ours
  enabled: true
  violations: 5
  window_hours: 24
  suspend_hours: 24
complaint_deadline_days: 15  # generative-ai:15 asks for a stated time limit; 15 days is our default
limits:
  max_body_bytes: 4194304
  upstream_timeout_s: 120
  connect_timeout_s: 5
  upstream_max_connections: 1000  # per worker (streams: as many again); beyond it requests wait
"""


def load_policy(path: str | None) -> Policy:
    if path is None:
        return Policy()
    from cnai.core.loaders import load_yaml, validate
    data = load_yaml(path) or {}
    pol = validate(Policy, data, source=str(path), what="gateway policy")
    nv = pol.labels.no_visible_label
    if nv.register_file:
        reg = nv.register_file
        if not os.path.isabs(reg):
            reg = os.path.join(os.path.dirname(os.path.abspath(path)), reg)
        nv.users = nv.users + load_register(reg)
    from collections import Counter
    dup = [u for u, n in Counter(a.user for a in nv.users).items() if n > 1]
    if dup:
        from cnai.errors import InputError
        raise InputError(f"labels.no_visible_label: user(s) {sorted(dup)} listed twice (policy and register)",
                         path=str(path))
    return pol


def load_register(path: str) -> list[Agreement]:
    """The users who may receive replies without the visible label: a YAML list (or {users: [...]}) or a CSV
    file with the header user,agreement,agreed[,until]. A bad row is an error naming the file and row: a
    register that only half loads would hand unlabelled content to the wrong people or refuse the right ones."""
    from cnai.core.loaders import load_yaml, read_text, validate
    from cnai.errors import InputError

    if path.lower().endswith(".csv"):
        import csv
        rows = list(csv.DictReader(read_text(path, what="label opt-out register").splitlines()))
        need = {"user", "agreement", "agreed"}
        if rows and not need <= set(rows[0]):
            raise InputError(f"CSV header must name {', '.join(sorted(need))} (and optionally until)", path=path)
        data = [{k: v for k, v in r.items() if k in need | {"until"} and v not in (None, "")} for r in rows]
        first = 2   # CSV rows are numbered as in a spreadsheet (line 1 = header)
    else:
        data = load_yaml(path, what="label opt-out register") or []
        if isinstance(data, dict):
            data = data.get("users", [])
        first = 1
    if not isinstance(data, list):
        raise InputError("expected a list of users", path=path)
    out, seen = [], set()
    for i, row in enumerate(data):
        a = validate(Agreement, row, source=path, what=f"row {i + first}")
        if a.user in seen:
            raise InputError(f"row {i + first}: user {a.user!r} listed twice", path=path)
        seen.add(a.user)
        out.append(a)
    return out


def opt_out(policy: Policy, user: str | None, today: _dt.date) -> tuple[Agreement | None, str]:
    """(the user's agreement, "") when the user may receive a reply without the visible label today, else
    (None, why not)."""
    nv = policy.labels.no_visible_label
    if not nv.enabled:
        return None, "switch not enabled in the policy (labels.no_visible_label.enabled)"
    if not user:
        return None, "no user id (X-CNAI-User)"
    a = nv.find(user)
    if a is None:
        return None, "user not in the register of agreements on labelling duties"
    if today < a.agreed:
        return None, f"agreement {a.agreement} accepted only from {a.agreed.isoformat()}"
    if a.until is not None and today > a.until:
        return None, f"agreement {a.agreement} ended {a.until.isoformat()}"
    return a, ""
