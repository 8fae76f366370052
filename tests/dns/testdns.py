#!/usr/bin/env python3
"""NAME
    testdns.py - a small authoritative DNS server for rampart's tests

SYNOPSIS
    tests/dns/testdns.py --port PORT [--address 127.0.0.1] [--log FILE] ZONEFILE...

DESCRIPTION
    Answers UDP and TCP queries on one loopback address from the records of
    its zone files, so that the tests of the resolver and of the checks that
    lean on DNS (block lists, reverse DNS, SPF, DKIM, DMARC) run against a
    real server with answers they chose, and with the failures they need:

        NAME [TTL] [IN] TYPE RDATA     A, AAAA, TXT, PTR, CNAME, MX, NS, SOA
        NAME SERVFAIL                  NAME and every name below it: SERVFAIL
        NAME DROP                      ... never answered at all
        NAME DELAY MS                  ... answered MS milliseconds late
        $TTL SECONDS                   the TTL of the records that follow

    Names are absolute (a trailing dot is optional), case-insensitive. TXT
    data is one or more "quoted strings", or a bare word. A name that holds
    no record and has none below it is NXDOMAIN; one that has records but
    not of the type asked is NOERROR with no answer; both carry the SOA of
    the zone above them, whose minimum is the negative TTL (RFC 2308).
    CNAMEs are followed within the data. An answer larger than 512 bytes
    over UDP without EDNS (or larger than the EDNS size given) is sent
    truncated, so that the client retries over TCP. Every query is appended
    to the log file (one line: "NAME TYPE") when --log is given, so that a
    test can count what reached the server.

    SIGHUP reloads the zone files; a test changes its data without a restart.

    Only the standard library; no recursion, no DNSSEC, no zone transfers.
"""
import argparse
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28, "OPT": 41}
NAMES = {v: k for k, v in TYPES.items()}


def norm(name):
    name = name.lower()
    return name if name.endswith(".") else name + "."


def encode_name(name):
    out = b""
    for label in norm(name).rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def split_txt(rest):
    """The character strings of TXT data: "quoted" parts, or one bare word."""
    parts, i = [], 0
    rest = rest.strip()
    if not rest.startswith('"'):
        return [rest.encode()]
    while i < len(rest):
        if rest[i] == '"':
            j, buf = i + 1, ""
            while j < len(rest) and rest[j] != '"':
                if rest[j] == "\\" and j + 1 < len(rest):
                    j += 1
                buf += rest[j]
                j += 1
            parts.append(buf.encode())
            i = j + 1
        else:
            i += 1
    return parts


def rdata(rtype, rest):
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, rest.strip())
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, rest.strip())
    if rtype in ("PTR", "CNAME", "NS"):
        return encode_name(rest.strip())
    if rtype == "MX":
        pref, host = rest.split()
        return struct.pack("!H", int(pref)) + encode_name(host)
    if rtype == "TXT":
        out = b""
        for s in split_txt(rest):
            for k in range(0, max(len(s), 1), 255):  # a long string is cut into 255-byte pieces
                piece = s[k:k + 255]
                out += bytes([len(piece)]) + piece
        return out
    if rtype == "SOA":
        f = rest.split()
        return encode_name(f[0]) + encode_name(f[1]) + struct.pack("!IIIII", *[int(x) for x in f[2:7]])
    raise ValueError("unknown type " + rtype)


def strip_comment(line):
    """The line up to a ';' that is not inside a quoted string."""
    quoted = False
    for i, c in enumerate(line):
        if c == '"':
            quoted = not quoted
        elif c == ";" and not quoted:
            return line[:i]
    return line


class Zone:
    def __init__(self, files):
        self.records = {}  # (name, type) -> [(ttl, rdata bytes, text)]
        self.special = {}  # name -> ("SERVFAIL"|"DROP"|"DELAY", arg)
        self.names = set()
        for path in files:
            self.load(path)

    def load(self, path):
        ttl = 300
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                line = strip_comment(line).strip()
                if not line:
                    continue
                fields = line.split(None, 1)
                if fields[0] == "$TTL":
                    ttl = int(fields[1])
                    continue
                name, rest = norm(fields[0]), fields[1] if len(fields) > 1 else ""
                words = rest.split(None, 1)
                rttl = ttl
                if words and words[0].isdigit():
                    rttl, rest = int(words[0]), words[1] if len(words) > 1 else ""
                    words = rest.split(None, 1)
                if words and words[0].upper() == "IN":
                    rest = words[1] if len(words) > 1 else ""
                    words = rest.split(None, 1)
                if not words:
                    sys.exit(f"{path}:{lineno}: no type")
                rtype, rest = words[0].upper(), words[1] if len(words) > 1 else ""
                if rtype in ("SERVFAIL", "DROP", "DELAY"):
                    self.special[name] = (rtype, int(rest) if rtype == "DELAY" else 0)
                    continue
                if rtype not in TYPES:
                    sys.exit(f"{path}:{lineno}: unknown type {rtype}")
                self.records.setdefault((name, TYPES[rtype]), []).append((rttl, rdata(rtype, rest)))
                labels = name.rstrip(".").split(".")
                for k in range(len(labels)):
                    self.names.add(".".join(labels[k:]) + ".")

    def special_for(self, name):
        labels = name.rstrip(".").split(".")
        for k in range(len(labels)):
            s = self.special.get(".".join(labels[k:]) + ".")
            if s:
                return s
        return None

    def soa_for(self, name):
        labels = name.rstrip(".").split(".")
        for k in range(len(labels)):
            owner = ".".join(labels[k:]) + "."
            if (owner, 6) in self.records:
                return owner, self.records[(owner, 6)][0]
        return None


def parse_query(data):
    if len(data) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    if qd != 1:
        return None
    i, labels = 12, []
    while i < len(data) and data[i] != 0:
        n = data[i]
        if n > 63 or i + 1 + n > len(data):
            return None
        labels.append(data[i + 1:i + 1 + n].decode("latin-1"))
        i += 1 + n
    i += 1
    if i + 4 > len(data):
        return None
    qtype, qclass = struct.unpack("!HH", data[i:i + 4])
    question = data[12:i + 4]
    i += 4
    edns = None
    if ar >= 1 and i + 11 <= len(data) and data[i] == 0:
        rtype, size = struct.unpack("!HH", data[i + 1:i + 5])
        if rtype == 41:
            edns = max(size, 512)
    return qid, flags, (".".join(labels) + ".").lower(), qtype, question, edns


def answer(zone, data, tcp):
    q = parse_query(data)
    if q is None:
        return None, 0
    qid, flags, name, qtype, question, edns = q
    special = zone.special_for(name)
    delay = 0
    if special and special[0] == "DROP":
        return None, 0
    rd = flags & 0x0100
    if special and special[0] == "SERVFAIL":
        return struct.pack("!HHHHHH", qid, 0x8000 | rd | 2, 1, 0, 0, 0) + question, 0
    if special and special[0] == "DELAY":
        delay = special[1]
    answers, owner, seen = [], name, set()
    while owner not in seen:
        seen.add(owner)
        for ttl, rd_ in zone.records.get((owner, qtype), []):
            answers.append((owner, qtype, ttl, rd_))
        if answers or qtype == 5:
            break
        cname = zone.records.get((owner, 5))
        if not cname:
            break
        ttl, target = cname[0]
        answers.append((owner, 5, ttl, target))
        # the target's name, decoded from its wire form
        i, labels = 0, []
        while target[i] != 0:
            labels.append(target[i + 1:i + 1 + target[i]].decode())
            i += 1 + target[i]
        owner = ".".join(labels).lower() + "."
    rcode, authority = 0, []
    if not any(a[1] == qtype for a in answers):
        if owner not in zone.names:
            rcode = 3
        soa = zone.soa_for(owner)
        if soa:
            authority.append((soa[0], 6, soa[1][0], soa[1][1]))
    def rr(owner, rtype, ttl, rd_):
        return encode_name(owner) + struct.pack("!HHIH", rtype, 1, ttl, len(rd_)) + rd_
    body = b"".join(rr(*a) for a in answers) + b"".join(rr(*a) for a in authority)
    head = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, 1, len(answers), len(authority), 0)
    msg = head + question + body
    limit = edns or 512
    if not tcp and len(msg) > limit:
        msg = struct.pack("!HHHHHH", qid, 0x8600 | rd | rcode, 1, 0, 0, 0) + question
    return msg, delay


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--log")
    ap.add_argument("zones", nargs="+")
    args = ap.parse_args()
    state = {"zone": Zone(args.zones)}
    log_lock = threading.Lock()

    def note(data):
        if not args.log:
            return
        q = parse_query(data)
        if q:
            with log_lock, open(args.log, "a") as f:
                f.write(f"{q[2]} {NAMES.get(q[3], q[3])}\n")

    def reload(signum, frame):
        state["zone"] = Zone(args.zones)

    signal.signal(signal.SIGHUP, reload)
    signal.signal(signal.SIGTERM, lambda s, f: os._exit(0))

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((args.address, args.port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.address, args.port))
    tcp.listen(64)

    def later(delay_ms, fn):
        t = threading.Timer(delay_ms / 1000.0, fn)
        t.daemon = True
        t.start()

    def serve_tcp(conn):
        try:
            conn.settimeout(10)
            while True:
                head = conn.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    return
                data = conn.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
                note(data)
                msg, delay = answer(state["zone"], data, True)
                if msg is None:
                    continue
                if delay:
                    time.sleep(delay / 1000.0)
                conn.sendall(struct.pack("!H", len(msg)) + msg)
        except OSError:
            pass
        finally:
            conn.close()

    while True:
        try:
            ready, _, _ = select.select([udp, tcp], [], [])
        except InterruptedError:
            continue
        if udp in ready:
            data, peer = udp.recvfrom(4096)
            note(data)
            msg, delay = answer(state["zone"], data, False)
            if msg is not None:
                if delay:
                    later(delay, lambda m=msg, p=peer: udp.sendto(m, p))
                else:
                    udp.sendto(msg, peer)
        if tcp in ready:
            conn, _ = tcp.accept()
            threading.Thread(target=serve_tcp, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
