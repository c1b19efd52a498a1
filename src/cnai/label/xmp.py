"""Minimal XMP packet handling for the TC260 AIGC property and IPTC DigitalSourceType.

Placement (reference 2.3, TC260-PG-20259A as summarised; confidence: secondary): namespace
http://www.tc260.org.cn/ns/AIGC/1.0/, prefix TC260, property TC260:AIGC holding the bare seven-key JSON.
If the packet already exists we update only that property (and keep the rest of the packet).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
IPTC_EXT_NS = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DST_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"
DST_AI = DST_PREFIX + "trainedAlgorithmicMedia"
DST_AI_COMPOSITE = DST_PREFIX + "compositeWithTrainedAlgorithmicMedia"


def _esc(s: str) -> str:
    return html.escape(s, quote=True)


def new_packet(label_json: str, *, digital_source_type: str | None = None, padding: int = 0) -> str:
    extra_ns = f' xmlns:Iptc4xmpExt="{IPTC_EXT_NS}"' if digital_source_type else ""
    extra = (f"\n   <Iptc4xmpExt:DigitalSourceType>{_esc(digital_source_type)}</Iptc4xmpExt:DigitalSourceType>"
             if digital_source_type else "")
    pad = ("\n" + " " * 99) * (padding // 100) if padding else ""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
        f'  <rdf:Description rdf:about="" xmlns:TC260="{TC260_NS}"{extra_ns}>\n'
        f"   <TC260:AIGC>{_esc(label_json)}</TC260:AIGC>{extra}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        f"</x:xmpmeta>{pad}\n"
        '<?xpacket end="w"?>'
    )


def _prefix_for(packet: str, ns: str) -> list[str]:
    return re.findall(r'xmlns:([A-Za-z_][\w.-]*)\s*=\s*["\']' + re.escape(ns) + r'["\']', packet)


def remove_property(packet: str, ns: str, local: str) -> str:
    for p in _prefix_for(packet, ns):
        q = re.escape(f"{p}:{local}")
        packet = re.sub(r"<" + q + r"(\s[^>]*)?/>", "", packet)
        packet = re.sub(r"<" + q + r"(\s[^>]*)?>.*?</" + q + r"\s*>", "", packet, flags=re.S)
        packet = re.sub(r"\s" + q + r'\s*=\s*"[^"]*"', "", packet)
        packet = re.sub(r"\s" + q + r"\s*=\s*'[^']*'", "", packet)
    return packet


EMPTY_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    f' <rdf:RDF xmlns:rdf="{RDF_NS}">\n'
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    '<?xpacket end="w"?>'
)

_DESC = re.compile(r"<rdf:Description\b([^>]*?)(?:/>|>\s*</rdf:Description>)", re.S)


def _drop_empty_descriptions(packet: str) -> str:
    def repl(m: re.Match) -> str:
        attrs = re.sub(r"""\s(?:xmlns:[\w.-]+|rdf:about)\s*=\s*(?:"[^"]*"|'[^']*')""", "", m.group(1))
        return "" if not attrs.strip() else m.group(0)

    return _DESC.sub(repl, packet)


def set_label(packet: str | None, label_json: str, *, digital_source_type: str | None = None) -> str:
    """Return a packet carrying exactly one TC260:AIGC = label_json, keeping everything else.
    Deterministic: setting the same label twice gives the same bytes."""
    if not packet or "</rdf:RDF>" not in packet:
        packet = EMPTY_PACKET
    packet = remove_property(packet, TC260_NS, "AIGC")
    if digital_source_type:
        packet = remove_property(packet, IPTC_EXT_NS, "DigitalSourceType")
    packet = _drop_empty_descriptions(packet)
    ns = f' xmlns:TC260="{TC260_NS}"'
    body = f"<TC260:AIGC>{_esc(label_json)}</TC260:AIGC>"
    if digital_source_type:
        ns += f' xmlns:Iptc4xmpExt="{IPTC_EXT_NS}"'
        body += f"<Iptc4xmpExt:DigitalSourceType>{_esc(digital_source_type)}</Iptc4xmpExt:DigitalSourceType>"
    desc = f'<rdf:Description rdf:about=""{ns}>{body}</rdf:Description>'
    i = packet.rfind("</rdf:RDF>")
    return packet[:i] + desc + packet[i:]


def parse(packet: bytes | str) -> dict:
    """Return {"aigc": str|None, "digital_source_type": str|None, "error": str|None}."""
    if isinstance(packet, bytes):
        packet = packet.decode("utf-8", errors="replace")
    out: dict = {"aigc": None, "digital_source_type": None, "error": None}
    start = packet.find("<x:xmpmeta")
    if start < 0:
        start = packet.find("<rdf:RDF")
    end_tag = "</x:xmpmeta>" if packet.startswith("<x:xmpmeta", max(start, 0)) else "</rdf:RDF>"
    end = packet.rfind(end_tag)
    if start < 0 or end < 0:
        out["error"] = "XMP packet has no x:xmpmeta/rdf:RDF root"
        return out
    xml = packet[start:end + len(end_tag)]
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        out["error"] = f"XMP is not well-formed XML: {e}"
        return _regex_fallback(packet, out)
    for el in root.iter():
        # element form and attribute form
        for key, val in el.attrib.items():
            if key == f"{{{TC260_NS}}}AIGC":
                out["aigc"] = val
            elif key == f"{{{IPTC_EXT_NS}}}DigitalSourceType":
                out["digital_source_type"] = val
        if el.tag == f"{{{TC260_NS}}}AIGC":
            out["aigc"] = "".join(el.itertext())
        elif el.tag == f"{{{IPTC_EXT_NS}}}DigitalSourceType":
            out["digital_source_type"] = el.attrib.get(f"{{{RDF_NS}}}resource") or "".join(el.itertext()).strip()
    return out


def _regex_fallback(packet: str, out: dict) -> dict:
    for p in _prefix_for(packet, TC260_NS) or ["TC260"]:
        m = re.search(re.escape(p) + r":AIGC\s*>(.*?)<", packet, re.S) or \
            re.search(re.escape(p) + r':AIGC\s*=\s*"([^"]*)"', packet)
        if m:
            out["aigc"] = html.unescape(m.group(1))
    m = re.search(r"DigitalSourceType[^>]*>\s*([^<\s]+)|DigitalSourceType\s*=\s*\"([^\"]+)\"", packet)
    if m:
        out["digital_source_type"] = m.group(1) or m.group(2)
    return out
