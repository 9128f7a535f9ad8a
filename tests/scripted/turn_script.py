#!/usr/bin/env python3
"""A scripted STUN responder for turnprobe's fault tests.

THIS IS NOT A TURN SERVER. It answers only what a test tells it to, so that the tests can
produce faults a real coturn never shows: a 300 redirect, a 438 on the first authenticated
Allocate, 508, 420, a wrong MESSAGE-INTEGRITY, a relay without authentication, a private
relayed address, HTTP or random bytes where STUN was expected, silence, and endless streams.

Where a scenario has to look like a working server (so that the checklist can go on after the
fault), it plays one in-process: "relayed" addresses are names only (no socket is bound for
them); a Send indication or ChannelData sent to the relayed address of another client of this
script is handed to that client as a Data indication or ChannelData. Nothing ever leaves the
process, whatever address a request names.

Every message it writes is real STUN (RFC 8489 formats, RFC 8656 TURN attributes), with
MESSAGE-INTEGRITY (long-term key MD5("user:realm:password")) and FINGERPRINT where a real
server puts them. Python 3 standard library only.

Usage: turn_script.py SCENARIO [--udp PORT] [--tcp PORT] [--alternate ADDR:PORT] ...
It prints "udp PORT", "tcp PORT" (the ports it listens on; 0 chooses one) and "ready" on
standard output, then serves until killed. --selftest HEX... prints crafted messages in hex,
for checking them with `turnprobe decode`.
"""

import argparse
import binascii
import hashlib
import hmac
import ipaddress
import os
import random
import socket
import struct
import sys
import threading
import time

MAGIC = 0x2112A442
FP_XOR = 0x5354554E

# Methods (RFC 8489 §18.2, RFC 8656 §17)
BINDING, ALLOCATE, REFRESH, SEND, DATA, CREATE_PERMISSION, CHANNEL_BIND = (
    0x001, 0x003, 0x004, 0x006, 0x007, 0x008, 0x009)
METHOD_NAMES = {BINDING: "Binding", ALLOCATE: "Allocate", REFRESH: "Refresh", SEND: "Send",
                DATA: "Data", CREATE_PERMISSION: "CreatePermission",
                CHANNEL_BIND: "ChannelBind"}
# Classes
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3

# Attributes
A_MAPPED_ADDRESS = 0x0001
A_USERNAME = 0x0006
A_MESSAGE_INTEGRITY = 0x0008
A_ERROR_CODE = 0x0009
A_UNKNOWN_ATTRIBUTES = 0x000A
A_CHANNEL_NUMBER = 0x000C
A_LIFETIME = 0x000D
A_XOR_PEER_ADDRESS = 0x0012
A_DATA = 0x0013
A_REALM = 0x0014
A_NONCE = 0x0015
A_XOR_RELAYED_ADDRESS = 0x0016
A_REQUESTED_TRANSPORT = 0x0019
A_PADDING = 0x0026  # RFC 5780 §7.6
A_XOR_MAPPED_ADDRESS = 0x0020
A_SOFTWARE = 0x8022
A_ALTERNATE_SERVER = 0x8023
A_FINGERPRINT = 0x8028

SOFTWARE = b"turn_script.py (scripted test responder, not a TURN server)"
REASONS = {300: "Try Alternate", 401: "Unauthorized", 403: "Forbidden", 420: "Unknown Attribute",
           437: "Allocation Mismatch", 438: "Stale Nonce", 508: "Insufficient Capacity"}

SCENARIOS = ("normal", "alternate", "stale-nonce", "stale-loop", "insufficient-capacity",
             "unknown-attribute", "bad-integrity", "no-integrity", "auth-loop", "open-relay",
             "private-relay", "not-stun", "silent", "garbage-tcp", "endless-tcp",
             "endless-tcp-indications", "endless-udp-indications", "error-no-code")

HTTP_400 = b"HTTP/1.1 400 Bad Request\r\n\r\n"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---- the codec ----

def msg_type(method, cls):
    """RFC 8489 §5: the class bits C1 C0 sit at bits 8 and 4, the method around them."""
    return (((method & 0xF80) << 2) | ((method & 0x070) << 1) | (method & 0x00F) |
            ((cls & 2) << 7) | ((cls & 1) << 4))


def split_type(t):
    method = ((t & 0x3E00) >> 2) | ((t & 0x00E0) >> 1) | (t & 0x000F)
    cls = ((t >> 7) & 2) | ((t >> 4) & 1)
    return method, cls


def pad4(n):
    return (4 - n % 4) % 4


class Msg:
    """A decoded STUN message: a view of its bytes, its attributes in order with offsets."""

    def __init__(self, raw):
        if len(raw) < 20:
            raise ValueError("shorter than a STUN header")
        t, length, cookie = struct.unpack_from("!HHI", raw, 0)
        if t & 0xC000 or cookie != MAGIC or length % 4 or 20 + length > len(raw):
            raise ValueError("not a STUN header")
        self.raw = bytes(raw[:20 + length])
        self.type = t
        self.method, self.cls = split_type(t)
        self.tid = self.raw[8:20]
        self.attrs = []  # (type, value, offset of the attribute header)
        off = 20
        while off + 4 <= len(self.raw):
            at, alen = struct.unpack_from("!HH", self.raw, off)
            if off + 4 + alen > len(self.raw):
                raise ValueError("attribute overruns the message")
            self.attrs.append((at, self.raw[off + 4:off + 4 + alen], off))
            off += 4 + alen + pad4(alen)

    def get(self, at):
        for t, v, _ in self.attrs:
            if t == at:
                return v
        return None

    def offset(self, at):
        for t, _, off in self.attrs:
            if t == at:
                return off
        return None

    def get_all(self, at):
        return [v for t, v, _ in self.attrs if t == at]


def xor_addr(value, tid):
    """Decodes an XOR-*-ADDRESS value to (ip string, port)."""
    fam, xport = value[1], struct.unpack_from("!H", value, 2)[0]
    port = xport ^ (MAGIC >> 16)
    if fam == 1:
        ip = bytes(a ^ b for a, b in zip(value[4:8], struct.pack("!I", MAGIC)))
    else:
        ip = bytes(a ^ b for a, b in zip(value[4:20], struct.pack("!I", MAGIC) + tid))
    return str(ipaddress.ip_address(ip)), port


def enc_addr(ip, port, tid, xor):
    a = ipaddress.ip_address(ip)
    fam = 1 if a.version == 4 else 2
    raw = a.packed
    if xor:
        port ^= MAGIC >> 16
        key = struct.pack("!I", MAGIC) + tid
        raw = bytes(x ^ k for x, k in zip(raw, key))
    return struct.pack("!BBH", 0, fam, port) + raw


def long_term_key(user, realm, password):
    """RFC 8489 §9.2.2: key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password));
    OpaqueString leaves the ASCII names and passwords of the tests as they are."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).digest()


class Builder:
    """Writes a message attribute by attribute; integrity() and fingerprint() close it."""

    def __init__(self, method, cls, tid):
        self.type = msg_type(method, cls)
        self.tid = tid
        self.body = bytearray()

    def attr(self, at, value):
        self.body += struct.pack("!HH", at, len(value)) + value + b"\0" * pad4(len(value))
        return self

    def addr(self, at, ip, port, xor=True):
        return self.attr(at, enc_addr(ip, port, self.tid, xor))

    def u32(self, at, v):
        return self.attr(at, struct.pack("!I", v))

    def error(self, code, reason=None):
        reason = (reason or REASONS.get(code, "Error")).encode()
        return self.attr(A_ERROR_CODE, struct.pack("!HBB", 0, code // 100, code % 100) + reason)

    def header(self, body_len):
        return struct.pack("!HHI", self.type, body_len, MAGIC) + self.tid

    def integrity(self, key, corrupt=False):
        """RFC 8489 §14.5: HMAC-SHA1 over the message up to the attribute, with the header's
        length counting the MESSAGE-INTEGRITY attribute itself."""
        pre = self.header(len(self.body) + 24) + bytes(self.body)
        mac = bytearray(hmac.new(key, pre, hashlib.sha1).digest())
        if corrupt:
            mac[0] ^= 0x01
        return self.attr(A_MESSAGE_INTEGRITY, bytes(mac))

    def fingerprint(self):
        """RFC 8489 §14.7: CRC-32 of the message up to the attribute, XOR 0x5354554e, with
        the header's length counting the FINGERPRINT attribute."""
        pre = self.header(len(self.body) + 8) + bytes(self.body)
        crc = (binascii.crc32(pre) & 0xFFFFFFFF) ^ FP_XOR
        return self.attr(A_FINGERPRINT, struct.pack("!I", crc))

    def bytes(self):
        return self.header(len(self.body)) + bytes(self.body)


def body_attrs(body):
    """(type, length, offset) of each attribute of a message body being built."""
    off, out = 0, []
    while off + 4 <= len(body):
        at, n = struct.unpack_from("!HH", body, off)
        out.append((at, n, off))
        off += 4 + n + pad4(n)
    return out


def check_integrity(m, key):
    off = m.offset(A_MESSAGE_INTEGRITY)
    if off is None:
        return False
    pre = bytearray(m.raw[:off])
    struct.pack_into("!H", pre, 2, off + 24 - 20)
    want = hmac.new(key, bytes(pre), hashlib.sha1).digest()
    return hmac.compare_digest(want, m.get(A_MESSAGE_INTEGRITY))


def channel_data(channel, data, stream):
    """RFC 8656 §12.4/12.5: over TCP the record is padded to four bytes."""
    out = struct.pack("!HH", channel, len(data)) + data
    return out + b"\0" * pad4(len(data)) if stream else out


# ---- the script ----

class Client:
    """One 5-tuple: its nonce, what the scenario has done to it, its pretend allocation."""

    def __init__(self, addr, server_ip, send, stream):
        self.addr = addr  # (ip, port) as the client's socket has it
        self.server_ip = server_ip  # ours, as the client reached it: the default relay address
        self.send = send  # send(bytes)
        self.stream = stream
        self.nonce = new_nonce()
        self.stale_sent = False
        self.relayed = None  # (ip, port)
        self.channels = {}  # channel -> (ip, port)


def new_nonce():
    return "scripted" + os.urandom(8).hex()


class Script:
    def __init__(self, args):
        self.args = args
        self.scenario = args.scenario
        self.key = long_term_key(args.user, args.realm, args.password)
        self.lock = threading.RLock()
        self.clients = {}
        self.next_relay_port = 49152
        self.rng = random.Random(args.seed)
        self.relay_ip = args.relay_ip or ("10.1.2.3" if self.scenario == "private-relay" else
                                          None)

    # -- replies --
    def reply(self, cl, m, cls, build, sign):
        b = Builder(m.method, cls, m.tid)
        build(b)
        if self.args.verbose:
            code = ""
            for at, v in [(t, b.body[o + 4:o + 4 + n]) for t, n, o in body_attrs(b.body)]:
                if at == A_ERROR_CODE:
                    code = f" {v[2] * 100 + v[3]}"
            log(f"{cl.addr[0]}:{cl.addr[1]} {METHOD_NAMES.get(m.method, hex(m.method))} "
                f"{'authenticated ' if m.get(A_MESSAGE_INTEGRITY) else ''}request -> "
                f"{['request', 'indication', 'success', 'error'][cls]}{code}"
                f"{' (signed)' if sign == 'ok' else ' (bad signature)' if sign else ''}")
        if sign:
            b.integrity(self.key, corrupt=sign == "corrupt")
        b.fingerprint()
        cl.send(b.bytes())

    def error(self, cl, m, code, sign, extra=None):
        def build(b):
            b.error(code)
            if extra:
                extra(b)
        self.reply(cl, m, ERROR, build, sign)

    def challenge(self, cl, m, code, fresh=True):
        """401 or 438: REALM and NONCE, never MESSAGE-INTEGRITY (RFC 8489 §9.2.4)."""
        if fresh:
            cl.nonce = new_nonce()

        def extra(b):
            b.attr(A_REALM, self.args.realm.encode())
            b.attr(A_NONCE, cl.nonce.encode())
        self.error(cl, m, code, None, extra)

    # -- entry points --
    def client_for(self, key, addr, server_ip, send, stream):
        with self.lock:
            cl = self.clients.get(key)
            if cl is None:
                cl = Client(addr, server_ip, send, stream)
                self.clients[key] = cl
            return cl

    def forget(self, key):
        with self.lock:
            self.clients.pop(key, None)

    def on_record(self, cl, data):
        """One UDP datagram, or one framed record from a TCP stream."""
        with self.lock:
            if not data:
                return
            if data[0] & 0xC0 == 0x40:
                self.on_channel_data(cl, data)
                return
            try:
                m = Msg(data)
            except ValueError as e:
                log(f"ignored {len(data)} bytes that are not STUN: {e}")
                return
            if m.cls == INDICATION:
                if m.method == SEND:
                    self.on_send(cl, m)
                return
            if m.cls != REQUEST:
                return
            self.on_request(cl, m)

    def on_request(self, cl, m):
        sc = self.scenario
        if sc == "error-no-code":
            # An error response with no ERROR-CODE at all: RFC 8489 §14.8 requires one.
            self.reply(cl, m, ERROR, lambda b: None, None)
            return
        if m.method == BINDING:
            self.reply(cl, m, SUCCESS, lambda b: (
                b.addr(A_XOR_MAPPED_ADDRESS, *cl.addr), b.attr(A_SOFTWARE, SOFTWARE)), None)
            return
        if sc == "alternate" and m.method == ALLOCATE:
            ip, port = self.args.alternate.rsplit(":", 1)
            self.error(cl, m, 300, None, lambda b: b.addr(A_ALTERNATE_SERVER, ip.strip("[]"),
                                                          int(port), xor=False))
            return
        sign = None
        if sc != "open-relay":
            if sc == "auth-loop" or m.get(A_MESSAGE_INTEGRITY) is None:
                self.challenge(cl, m, 401)
                return
            user, realm, nonce = m.get(A_USERNAME), m.get(A_REALM), m.get(A_NONCE)
            if nonce is None or nonce.decode(errors="replace") != cl.nonce:
                self.challenge(cl, m, 438)
                return
            if (user is None or user.decode(errors="replace") != self.args.user or
                    realm is None or realm.decode(errors="replace") != self.args.realm or
                    not check_integrity(m, self.key)):
                log("authenticated request whose credentials or integrity are wrong: 401")
                self.challenge(cl, m, 401)
                return
            sign = "ok"
            if m.method == ALLOCATE:
                if sc == "stale-loop" or (sc == "stale-nonce" and not cl.stale_sent):
                    cl.stale_sent = True
                    self.challenge(cl, m, 438)
                    return
                if sc == "insufficient-capacity":
                    self.error(cl, m, 508, sign)
                    return
                if sc == "unknown-attribute":
                    self.error(cl, m, 420, sign, lambda b: b.attr(
                        A_UNKNOWN_ATTRIBUTES, struct.pack("!H", A_REQUESTED_TRANSPORT)))
                    return
                if sc == "bad-integrity":
                    sign = "corrupt"
                if sc == "no-integrity":
                    sign = None
        handler = {ALLOCATE: self.allocate, REFRESH: self.refresh,
                   CREATE_PERMISSION: self.permission, CHANNEL_BIND: self.channel_bind}.get(
                       m.method)
        if handler is None:
            self.error(cl, m, 400 if m.method not in METHOD_NAMES else 437, sign)
            return
        handler(cl, m, sign)

    # -- the pretend allocation --
    def find_relayed(self, ip, port):
        for c in self.clients.values():
            if c.relayed == (ip, port):
                return c
        return None

    def allocate(self, cl, m, sign):
        if cl.relayed is not None:
            self.error(cl, m, 437, sign)
            return
        ip = self.relay_ip or cl.server_ip
        cl.relayed = (ip, self.next_relay_port)
        self.next_relay_port += 2
        self.reply(cl, m, SUCCESS, lambda b: (
            b.addr(A_XOR_RELAYED_ADDRESS, *cl.relayed), b.addr(A_XOR_MAPPED_ADDRESS, *cl.addr),
            b.u32(A_LIFETIME, 600), b.attr(A_SOFTWARE, SOFTWARE)), sign)

    def refresh(self, cl, m, sign):
        if cl.relayed is None:
            self.error(cl, m, 437, sign)
            return
        lt = m.get(A_LIFETIME)
        lifetime = min(struct.unpack("!I", lt)[0], 3600) if lt and len(lt) == 4 else 600
        if lifetime == 0:
            cl.relayed = None
            cl.channels = {}
        self.reply(cl, m, SUCCESS, lambda b: b.u32(A_LIFETIME, lifetime), sign)

    def peers_ok(self, cl, m):
        """Only our own pretend relays are permitted peers: everything else is refused with
        403, as a server with a strict peer policy does."""
        peers = [xor_addr(v, m.tid) for v in m.get_all(A_XOR_PEER_ADDRESS)]
        return peers and all(self.find_relayed(*p) for p in peers), peers

    def permission(self, cl, m, sign):
        if cl.relayed is None:
            self.error(cl, m, 437, sign)
            return
        ok, _ = self.peers_ok(cl, m)
        if not ok:
            self.error(cl, m, 403, sign)
            return
        self.reply(cl, m, SUCCESS, lambda b: None, sign)

    def channel_bind(self, cl, m, sign):
        ok, peers = self.peers_ok(cl, m)
        ch = m.get(A_CHANNEL_NUMBER)
        if cl.relayed is None or not ok or not ch or len(ch) != 4:
            self.error(cl, m, 403 if cl.relayed else 437, sign)
            return
        cl.channels[struct.unpack("!H", ch[:2])[0]] = peers[0]
        self.reply(cl, m, SUCCESS, lambda b: None, sign)

    def deliver(self, src, peer, data):
        """Data from src's relay to the relay at peer: a ChannelData if the receiver bound a
        channel to src's relay, else a Data indication."""
        dst = self.find_relayed(*peer)
        if dst is None or src.relayed is None:
            return
        for ch, addr in dst.channels.items():
            if addr == src.relayed:
                dst.send(channel_data(ch, data, dst.stream))
                return
        b = Builder(DATA, INDICATION, os.urandom(12))
        b.addr(A_XOR_PEER_ADDRESS, *src.relayed).attr(A_DATA, data).fingerprint()
        dst.send(b.bytes())

    def on_send(self, cl, m):
        peer, data = m.get(A_XOR_PEER_ADDRESS), m.get(A_DATA)
        if peer is not None and data is not None:
            self.deliver(cl, xor_addr(peer, m.tid), data)

    def on_channel_data(self, cl, data):
        if len(data) < 4:
            return
        ch, n = struct.unpack_from("!HH", data, 0)
        if ch in cl.channels and 4 + n <= len(data):
            self.deliver(cl, cl.channels[ch], data[4:4 + n])


# ---- transports ----

def serve_udp(script, sock):
    server_ip = sock.getsockname()[0]
    sprayed = set()
    while True:
        data, addr = sock.recvfrom(65535)
        if script.scenario == "silent":
            continue
        if script.scenario == "not-stun":
            sock.sendto(HTTP_400, addr)
            continue
        if script.scenario == "endless-udp-indications":
            if addr not in sprayed:
                sprayed.add(addr)
                threading.Thread(target=spray_endless_indications, args=(sock, addr),
                                 daemon=True).start()
            continue
        cl = script.client_for(("udp", addr), addr[:2], server_ip,
                               lambda b, a=addr: sock.sendto(b, a), False)
        script.on_record(cl, data)


def stun_frames(buf):
    """Splits a TCP byte stream into STUN messages and ChannelData records (RFC 8656 §12.5);
    consumes them from buf. Raises ValueError on bytes that frame as neither."""
    out = []
    while len(buf) >= 4:
        top = buf[0] >> 6
        n = struct.unpack_from("!H", buf, 2)[0]
        if top == 0:
            total = 20 + n
        elif top == 1:
            total = 4 + n + pad4(n)
        else:
            raise ValueError("neither STUN nor ChannelData")
        if len(buf) < total:
            break
        out.append(bytes(buf[:total]))
        del buf[:total]
    return out


def serve_tcp_conn(script, conn, addr):
    sc = script.scenario
    server_ip = conn.getsockname()[0]
    wlock = threading.Lock()

    def send(b):
        with wlock:
            try:
                conn.sendall(b)
            except OSError:
                pass

    key = ("tcp", addr)
    cl = script.client_for(key, addr[:2], server_ip, send, True)
    buf = bytearray()
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            if sc == "silent":
                continue
            if sc == "not-stun":
                send(HTTP_400)
                continue
            if sc == "garbage-tcp":
                # Random bytes, but never a first byte of 0x40-0x4f: those frame as a
                # ChannelData header whose length the probe would honestly wait for, and the
                # test would then depend on the seed. 0x00-0x3f (a "STUN" header with a
                # wrong length or cookie) and 0x50-0xff are refused at once by any framer.
                junk = bytearray(script.rng.randbytes(256))
                while 0x40 <= junk[0] <= 0x4F:
                    junk[0] = script.rng.randrange(256)
                send(bytes(junk))
                continue
            buf += data
            try:
                recs = stun_frames(buf)
            except ValueError:
                log("TCP stream out of step; closing")
                return
            for r in recs:
                if sc == "endless-tcp":
                    stream_endless_message(conn, r)
                    return
                if sc == "endless-tcp-indications":
                    stream_endless_indications(conn)
                    return
                script.on_record(cl, r)
    except OSError:
        pass
    finally:
        script.forget(key)
        try:
            conn.close()
        except OSError:
            pass


def stream_endless_message(conn, first):
    """The answer to the first request is a Binding success whose header claims 65532 bytes
    (the most STUN allows), and after it comes more of the same, forever: every 65552 bytes
    frame and decode as a valid STUN message (one PADDING attribute, RFC 5780 §7.6, of 65528
    bytes), so nothing in the stream is malformed and it never ends. The probe must give up
    on it with bounded memory and time."""
    body = struct.pack("!HH", A_PADDING, 65528) + b"\xa5" * 65528
    tid = first[8:20]
    method, _ = split_type(struct.unpack_from("!H", first, 0)[0])
    try:
        while True:
            conn.sendall(struct.pack("!HHI", msg_type(method, SUCCESS), 65532, MAGIC) + tid +
                         body)
            tid = os.urandom(12)
    except OSError:
        pass


def indications(n):
    """Valid Binding indications (20-byte header + FINGERPRINT), each with its own transaction
    id: every one a well-formed STUN message that nobody asked for."""
    return [Builder(BINDING, INDICATION, struct.pack("!III", 0x54505242, i, 0x0BADF00D))
            .fingerprint().bytes() for i in range(n)]


def stream_endless_indications(conn):
    block = b"".join(indications(4096))
    try:
        while True:
            conn.sendall(block)
    except OSError:
        pass


def spray_endless_indications(sock, addr, seconds=60):
    """The UDP form: one indication per datagram to the client's address, without end (or for
    a minute: nothing tells a UDP sender that the client has gone)."""
    msgs = indications(4096)
    stop = time.monotonic() + seconds
    try:
        while time.monotonic() < stop:
            for m in msgs:
                sock.sendto(m, addr)
    except OSError:
        pass


def serve_tcp(script, lsock):
    while True:
        conn, addr = lsock.accept()
        threading.Thread(target=serve_tcp_conn, args=(script, conn, addr), daemon=True).start()


def selftest(script):
    """Prints one of each crafted message in hex, for `turnprobe decode`."""
    tid = bytes(range(12))

    class Sink:
        def __init__(self):
            self.out = []
            self.addr = ("127.0.0.1", 40000)
            self.server_ip = "127.0.0.1"
            self.stream = False
            self.nonce = "scriptednonce"
            self.relayed = None
            self.channels = {}
            self.stale_sent = False

        def send(self, b):
            self.out.append(b)

    def req(method, attrs, auth, nonce):
        b = Builder(method, REQUEST, tid)
        for at, v in attrs:
            b.attr(at, v)
        if auth:
            b.attr(A_USERNAME, script.args.user.encode()).attr(A_REALM, script.args.realm.encode())
            b.attr(A_NONCE, nonce.encode()).integrity(script.key)
        return Msg(b.fingerprint().bytes())

    rt = [(A_REQUESTED_TRANSPORT, bytes([17, 0, 0, 0]))]
    if not script.args.alternate:
        script.args.alternate = "127.0.0.1:3478"
    # A request carries USERNAME and REALM, so `turnprobe decode --password-file` can check the
    # long-term MESSAGE-INTEGRITY that Builder.integrity() also puts on the responses.
    print("auth-request", req(ALLOCATE, rt, True, "scriptednonce").raw.hex())
    for sc in SCENARIOS:
        if sc in ("not-stun", "silent", "garbage-tcp", "endless-tcp-indications",
                  "endless-udp-indications"):
            continue
        script.scenario = sc
        script.relay_ip = "10.1.2.3" if sc == "private-relay" else None
        s = Sink()
        script.on_request(s, req(BINDING, [], False, ""))
        script.on_request(s, req(ALLOCATE, rt, False, ""))
        script.on_request(s, req(ALLOCATE, rt, True, s.nonce))
        script.on_request(s, req(ALLOCATE, rt, True, s.nonce))
        for b in s.out:
            print(sc, b.hex())
    script.scenario = "normal"
    b = Builder(DATA, INDICATION, tid)
    print("data-indication", b.addr(A_XOR_PEER_ADDRESS, "10.1.2.3", 49152).attr(
        A_DATA, b"TPRB").fingerprint().bytes().hex())
    b = Builder(BINDING, INDICATION, tid)
    print("binding-indication", b.fingerprint().bytes().hex())
    hdr = struct.pack("!HHI", msg_type(BINDING, SUCCESS), 65532, MAGIC) + tid
    body = struct.pack("!HH", A_PADDING, 65528) + b"\xa5" * 65528
    print("endless-message", (hdr + body).hex())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", choices=SCENARIOS)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--udp", type=int, help="UDP port to listen on (0: choose)")
    ap.add_argument("--tcp", type=int, help="TCP port to listen on (0: choose)")
    ap.add_argument("--alternate", help="ADDR:PORT for ALTERNATE-SERVER (scenario alternate)")
    ap.add_argument("--relay-ip", help="the relayed address to advertise (default: ours)")
    ap.add_argument("--user", default="alice")
    ap.add_argument("--realm", default="example.org")
    ap.add_argument("--password", default="secret")
    ap.add_argument("--seed", type=int, default=8489)
    ap.add_argument("--max-seconds", type=float, default=300,
                    help="exit after this long, should the test that started it be killed")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="log every request and the answer on standard error")
    ap.add_argument("--selftest", action="store_true",
                    help="print crafted messages in hex and exit")
    args = ap.parse_args()
    script = Script(args)
    if args.selftest:
        selftest(script)
        return
    if args.scenario == "alternate" and not args.alternate:
        ap.error("scenario alternate needs --alternate ADDR:PORT")
    if args.udp is None and args.tcp is None:
        args.udp = 0
    fam = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    threads = []
    if args.udp is not None:
        us = socket.socket(fam, socket.SOCK_DGRAM)
        us.bind((args.host, args.udp))
        print("udp", us.getsockname()[1], flush=True)
        threads.append(threading.Thread(target=serve_udp, args=(script, us), daemon=True))
    if args.tcp is not None:
        ts = socket.socket(fam, socket.SOCK_STREAM)
        ts.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ts.bind((args.host, args.tcp))
        ts.listen(16)
        print("tcp", ts.getsockname()[1], flush=True)
        threads.append(threading.Thread(target=serve_tcp, args=(script, ts), daemon=True))
    for t in threads:
        t.start()
    print("ready", flush=True)
    try:
        time.sleep(args.max_seconds)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
