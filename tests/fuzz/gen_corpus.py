#!/usr/bin/env python3
"""Writes the fuzz seed corpus (tests/fuzz/corpus/{decode,frame}/) from the shared test data.

decode/: the RFC vectors, pion's browser messages, one message per attribute type stunlib
knows, a few malformed ones, and the distinct UDP payloads of the shared captures (STUN,
ChannelData and a few of everything else). frame/: TCP byte streams from the captures and the
vectors, each behind fuzz_frame's 9-byte header (STUN size limit, then eight chunk sizes).
File names are the SHA-1 of the content, as libFuzzer names them, so reruns change nothing.

    python3 tests/fuzz/gen_corpus.py [SHARED_DIR]     (default: ../shared beside the checkout)
"""
import base64
import csv
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(os.path.dirname(HERE))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(CHECKOUT), "shared")
COOKIE = 0x2112A442
TID = bytes(range(1, 13))

# Limits that keep the corpus small: libFuzzer's default max_len is 4096 anyway.
MAX_DECODE_INPUT = 4096
MAX_PER_KIND = 12
MAX_FRAME_INPUT = 16384


def attr(t, v, pad=b"\0"):
    return struct.pack(">HH", t, len(v)) + v + pad * (-len(v) % 4)


def msg(mtype, body, cookie=COOKIE, tid=TID):
    return struct.pack(">HHI", mtype, len(body), cookie) + tid + body


def xaddr(port, ip4):
    return struct.pack(">BBH", 0, 1, port ^ (COOKIE >> 16)) + bytes(
        a ^ b for a, b in zip(ip4, struct.pack(">I", COOKIE)))


# One well-formed value per attribute type stunlib knows (sl_names.c), so each check_attr
# branch and each formatter has a seed.
ATTRS = {
    0x0001: b"\0\x01\x0d\x96\xc0\x00\x02\x01",
    0x0002: b"\0\x02\x0d\x96" + bytes(15) + b"\x01",
    0x0003: b"\0\0\0\x06",
    0x0004: b"\0\x01\x0d\x96\xc6\x33\x64\x07",
    0x0005: b"\0\x01\x0d\x97\xcb\x00\x71\x09",
    0x0006: b"evtj:h6vY",
    0x0007: b"secret",
    0x0008: bytes(20),
    0x0009: b"\0\0\x04\x26Stale Nonce",
    0x000A: b"\0\x24\0\x31\x80\x22",
    0x000B: b"\0\x01\0\x09\xc0\x00\x02\xc8",
    0x000C: b"\x40\x01\0\0",
    0x000D: b"\0\0\x02\x58",
    0x0012: xaddr(49152, b"\xcb\x00\x71\x05"),
    0x0013: b"\x80\x00\x00\x01\x02",
    0x0014: b"example.org",
    0x0015: b"f//499k954d6OL34oL9FSTvy64sA",
    0x0016: xaddr(50000, b"\x64\x40\x00\x01"),
    0x0017: b"\x02\0\0\0",
    0x0018: b"\x80",
    0x0019: b"\x11\0\0\0",
    0x001A: b"",
    0x001B: b"\0\x04\x01\x02\x03\x04\xa1\xa2\xa3",
    0x001C: bytes(32),
    0x001D: b"\0\x02\0\0",
    0x001E: bytes(range(32)),
    0x0020: xaddr(32853, b"\xc0\x00\x02\x01"),
    0x0022: bytes(range(8)),
    0x0024: b"\x6e\0\x01\xff",
    0x0025: b"",
    0x0026: bytes(7),
    0x0027: b"\x0d\x96\0\0",
    0x002A: b"\xde\xad\xbe\xef",
    0x8000: b"\x02\0\0\0",
    0x8001: b"\x02\0\x04\x28Address Family not Supported",
    0x8002: b"\0\x02\0\0\0\x01\0\0",
    0x8003: b"turn.example.org",
    0x8004: b"\0\0\x03\x01\x12\x34\x56\x78",
    0x8022: b"turnprobe",
    0x8023: b"\0\x01\x0d\x96\xc6\x33\x64\x01",
    0x8025: b"\0\0\x03\x01",
    0x8027: b"\0\0\x0e\x10",
    0x8028: b"\0\0\0\0",
    0x8029: bytes(range(8)),
    0x802A: bytes(range(8, 16)),
    0x802B: b"\0\x01\x0d\x96\xc0\x00\x02\x02",
    0x802C: b"\0\x01\x0d\x97\xc0\x00\x02\x03",
    0x802D: b"\0\0\0\x03",
    0x802E: b"https://auth.example.org/",
    0x8030: bytes(range(10)),
}


def crc32_fingerprint(m):
    import zlib
    return struct.pack(">I", zlib.crc32(m) ^ 0x5354554E)


def with_fingerprint(mtype, body):
    # The length must already count the FINGERPRINT attribute when the CRC is computed.
    head = msg(mtype, body + bytes(8))[: 20 + len(body)]
    return head + attr(0x8028, crc32_fingerprint(head))


def read_vectors():
    out = []
    with open(os.path.join(SHARED, "vectors", "stun-vectors.txt")) as f:
        for line in f:
            s = line.strip()
            if s and not s.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in s):
                out.append(bytes.fromhex(s))
    return out


def read_browsers():
    out = []
    path = os.path.join(SHARED, "captures", "pion-stun")
    with open(os.path.join(path, "frombrowsers.csv")) as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for row in rows:
            out.append(base64.b64decode(row["message"]))
    with open(os.path.join(path, "ex1_chrome.stun"), "rb") as f:
        out.append(f.read())
    return out


# ---- pcap and pcapng, just enough for Ethernet captures ----

def pcap_frames(data):
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        yield from pcapng_frames(data)
        return
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("not a capture")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        yield linktype, data[off + 16:off + 16 + incl]
        off += 16 + incl


def pcapng_frames(data):
    off, e, links = 0, "<", []
    while off + 12 <= len(data):
        btype = struct.unpack(e + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            e = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            btype = 0x0A0D0D0A
            links = []
        blen = struct.unpack(e + "I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            links.append(struct.unpack(e + "H", body[:2])[0])
        elif btype == 6:
            iface, _, _, caplen = struct.unpack(e + "IIII", body[:16])
            yield links[iface], body[20:20 + caplen]
        elif btype == 3:
            yield links[0], body[4:]
        if blen < 12:
            break
        off += blen


def transport(frame):
    """(proto, flow, seq, syn, payload) for UDP or TCP over IPv4/IPv6 in Ethernet, else None."""
    if len(frame) < 14:
        return None
    etype, off = struct.unpack(">H", frame[12:14])[0], 14
    while etype in (0x8100, 0x88A8) and off + 4 <= len(frame):
        etype, off = struct.unpack(">H", frame[off + 2:off + 4])[0], off + 4
    if etype == 0x0800 and off + 20 <= len(frame):
        ihl = (frame[off] & 15) * 4
        total = struct.unpack(">H", frame[off + 2:off + 4])[0]
        if struct.unpack(">H", frame[off + 6:off + 8])[0] & 0x3FFF:
            return None
        proto, src, dst = frame[off + 9], frame[off + 12:off + 16], frame[off + 16:off + 20]
        l4 = frame[off + ihl:off + total]
    elif etype == 0x86DD and off + 40 <= len(frame):
        plen = struct.unpack(">H", frame[off + 4:off + 6])[0]
        proto, src, dst = frame[off + 6], frame[off + 8:off + 24], frame[off + 24:off + 40]
        l4 = frame[off + 40:off + 40 + plen]
        while proto in (0, 43, 60) and len(l4) >= 8:
            proto, l4 = l4[0], l4[8 * (l4[1] + 1):]
    else:
        return None
    if proto == 17 and len(l4) >= 8:
        sport, dport, ulen = struct.unpack(">HHH", l4[:6])
        return "udp", (src, sport, dst, dport), 0, False, l4[8:ulen]
    if proto == 6 and len(l4) >= 20:
        sport, dport, seq = struct.unpack(">HHI", l4[:8])
        hlen = (l4[12] >> 4) * 4
        return "tcp", (src, sport, dst, dport), seq, bool(l4[13] & 2), l4[hlen:]
    return None


def kind(p):
    """A rough RFC 7983 bucket, only to keep a few seeds of each kind."""
    if not p:
        return "empty"
    b = p[0]
    if b <= 3:
        return "stun" if len(p) >= 8 and struct.unpack(">I", p[4:8])[0] == COOKIE else "classic"
    if 64 <= b <= 79:
        return "channel"
    if 20 <= b <= 63:
        return "dtls"
    if 128 <= b <= 191:
        return "rtp"
    return "other"


def read_captures():
    udp, streams = [], {}
    root = os.path.join(SHARED, "captures")
    for d in sorted(os.listdir(root)):
        if not os.path.isdir(os.path.join(root, d)):
            continue
        for name in sorted(os.listdir(os.path.join(root, d))):
            if ".pcap" not in name:
                continue
            with open(os.path.join(root, d, name), "rb") as f:
                data = f.read()
            for linktype, frame in pcap_frames(data):
                t = transport(frame) if linktype == 1 else None
                if not t:
                    continue
                proto, flow, seq, syn, payload = t
                if proto == "udp":
                    udp.append(payload)
                    continue
                s = streams.setdefault((name, flow), {"next": None, "data": b""})
                if syn:
                    s["next"] = (seq + 1) & 0xFFFFFFFF
                    continue
                if not payload or (s["next"] is not None and seq != s["next"]):
                    continue  # retransmission or gap: the seed needs no perfect reassembly
                s["data"] += payload
                s["next"] = (seq + len(payload)) & 0xFFFFFFFF
    return udp, [s["data"] for s in streams.values() if s["data"]]


def write(dirname, blobs):
    path = os.path.join(HERE, "corpus", dirname)
    os.makedirs(path, exist_ok=True)
    for old in os.listdir(path):
        if not old.startswith("regression-"):
            os.remove(os.path.join(path, old))
    seen = set()
    for b in blobs:
        h = hashlib.sha1(b).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        with open(os.path.join(path, h), "wb") as f:
            f.write(b)
    total = sum(len(b) for b in blobs)
    print(f"{dirname}: {len(seen)} files, {total} bytes")


def chan(ch, data, stream=True):
    rec = struct.pack(">HH", ch, len(data)) + data
    return rec + bytes(-len(rec) % 4) if stream else rec


def main():
    vectors = read_vectors()
    browsers = read_browsers()
    udp, tcp = read_captures()

    decode = list(vectors) + browsers
    for t, v in sorted(ATTRS.items()):
        decode.append(msg(0x0101, attr(0x8022, b"seed") + attr(t, v)))
    decode.append(with_fingerprint(0x0001, attr(0x0006, b"alice") + attr(0x0024, bytes(4))))
    decode.append(msg(0x0001, attr(0x0008, bytes(20)) + attr(0x8022, b"late")))  # lenient
    decode.append(msg(0x0001, b"", cookie=0x01234567))  # classic
    decode.append(msg(0x0001, attr(0x0006, b"x" * 600)))  # too long
    decode.append(msg(0x0001, b"".join(attr(0x8050, b"") for _ in range(129))))  # too many
    decode += [chan(0x4000, b"\x80\x00\x00\x01" + bytes(8), False), chan(0x4fff, b"", False),
               chan(0x4001, b"abc", True), chan(0x5000, b"x", False)]
    per_kind = {}
    for p in udp:
        k = kind(p)
        if len(p) > MAX_DECODE_INPUT:
            continue
        if k in ("stun", "classic", "channel") or per_kind.get(k, 0) < MAX_PER_KIND:
            per_kind[k] = per_kind.get(k, 0) + 1
            decode.append(p)
    write("decode", decode)

    # fuzz_frame: byte 0 = STUN limit (0: the protocol's), bytes 1-8 = chunk sizes.
    headers = [bytes([0, 1, 2, 3, 5, 7, 11, 13, 255]), bytes([6, 20, 0, 4, 255, 1, 1, 8, 64])]
    frame = []
    allvec = b"".join(v for v in vectors if len(v) == 20 + struct.unpack(">H", v[2:4])[0])
    stream = allvec + chan(0x4000, b"") + chan(0x4001, b"a") + chan(0x4002, b"ab") + \
        chan(0x4003, b"abc") + chan(0x4004, b"abcd") + allvec
    for h in headers:
        frame.append(h + stream)
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", bytes.fromhex("15030300020228"),
                 bytes.fromhex("16030100f8010000f40303") + bytes(32),
                 msg(0x0001, b"", cookie=0x2112A443), bytes.fromhex("50000004deadbeef")):
        frame.append(headers[0] + vectors[1] + junk)
    for s in tcp:
        frame.append(headers[0] + s[:MAX_FRAME_INPUT - 9])
    write("frame", frame)


if __name__ == "__main__":
    main()
