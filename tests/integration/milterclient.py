#!/usr/bin/env python3
"""
NAME
    milterclient - the MTA side of the milter protocol, version 6, for tests

SUMMARY
    import milterclient as mc
    with mc.Session.open("127.0.0.1", 7357) as s:
        s.negotiate()
        s.connect("mx.client.example", mc.FAMILY_INET, "192.0.2.1", 25)
        s.helo("mx.client.example")
        s.mail("<alice@sender.example>", macros={"i": "4XyZ1"})
        s.rcpt("<bob@rcpt.example>")
        s.header("Subject", "hello")
        s.eoh()
        s.body(b"Hi Bob,\r\n")
        result = s.eom()
        result.reply.letter, result.added_headers()

    python3 milterclient.py [--host H] --port P [--file MESSAGE] ...
        runs one transaction and prints every reply (see --help).

DESCRIPTION
    Speaks to a filter the way Sendmail and Postfix do, with no dependency
    beyond the Python 3 standard library, so that tests can drive a real
    filter process step by step and see exactly what it answers.

    Negotiation offers every action and every protocol flag of version 6
    (SMFI_CURR_ACTS, SMFI_CURR_PROT: every "do not send" step, every
    SMFIP_NR_* "no reply" step, SMFIP_SKIP, ...) unless told otherwise, and
    records what the filter asks for. From then on the session honours it:

      - a step the filter asked not to receive (SMFIP_NO*) is not sent;
      - a step the filter marked "no reply" (SMFIP_NR_*) is sent and no
        reply is awaited. A reply that arrives anyway is a protocol
        violation by the filter; it is kept in Session.unsolicited;
      - SMFIR_SKIP in answer to a body chunk stops the body;
      - SMFIR_PROGRESS is read past, whatever the step.

    At end of message the modification actions (add, change, insert
    header, quarantine, recipient and body changes) are collected until
    the final reply: accept, continue, reject, tempfail, discard, a reply
    code ('y', final too), or a shutdown or connection failure ('4', 'f').

    Every method for a step returns a Reply: its letter (None when no reply
    was expected, see Reply.note) and its data. Reply unpacks as
    (letter, data).

ERRORS
    FilterTimeout   no byte came within Session.timeout seconds (the
                    timeout applies to each read and each write);
    FilterClosed    the filter closed or reset the connection;
    FilterUnreachable  the connection could not be opened;
    ProtocolViolation  the filter sent something the protocol does not
                    allow at that step, or an unreasonable packet length.
    All derive from MilterError.

LIMITS
    Outgoing body chunks are at most MAX_CHUNK (65535) bytes, as from a
    real MTA. Any other packet is sent as given, however large: hostile
    tests need that. Incoming packets longer than MAX_REPLY are refused.
"""

import argparse
import select
import socket
import struct
import sys

PROTOCOL_VERSION = 6
MAX_CHUNK = 65535
MAX_REPLY = 1024 * 1024

# Commands, MTA to filter.
SMFIC_ABORT = b"A"
SMFIC_BODY = b"B"
SMFIC_CONNECT = b"C"
SMFIC_MACRO = b"D"
SMFIC_BODYEOB = b"E"
SMFIC_HELO = b"H"
SMFIC_QUIT_NC = b"K"
SMFIC_HEADER = b"L"
SMFIC_MAIL = b"M"
SMFIC_EOH = b"N"
SMFIC_OPTNEG = b"O"
SMFIC_QUIT = b"Q"
SMFIC_RCPT = b"R"
SMFIC_DATA = b"T"
SMFIC_UNKNOWN = b"U"

# Replies, filter to MTA.
SMFIR_ADDRCPT = "+"
SMFIR_DELRCPT = "-"
SMFIR_ADDRCPT_PAR = "2"
SMFIR_SHUTDOWN = "4"
SMFIR_ACCEPT = "a"
SMFIR_REPLBODY = "b"
SMFIR_CONTINUE = "c"
SMFIR_DISCARD = "d"
SMFIR_CHGFROM = "e"
SMFIR_CONN_FAIL = "f"
SMFIR_ADDHEADER = "h"
SMFIR_INSHEADER = "i"
SMFIR_SETSYMLIST = "l"
SMFIR_CHGHEADER = "m"
SMFIR_PROGRESS = "p"
SMFIR_QUARANTINE = "q"
SMFIR_REJECT = "r"
SMFIR_SKIP = "s"
SMFIR_TEMPFAIL = "t"
SMFIR_REPLYCODE = "y"

# Address families in SMFIC_CONNECT.
FAMILY_UNKNOWN = "U"
FAMILY_UNIX = "L"
FAMILY_INET = "4"
FAMILY_INET6 = "6"

# Actions (SMFIF_*).
SMFIF_ADDHDRS = 0x001
SMFIF_CHGBODY = 0x002
SMFIF_ADDRCPT = 0x004
SMFIF_DELRCPT = 0x008
SMFIF_CHGHDRS = 0x010
SMFIF_QUARANTINE = 0x020
SMFIF_CHGFROM = 0x040
SMFIF_ADDRCPT_PAR = 0x080
SMFIF_SETSYMLIST = 0x100
SMFI_CURR_ACTS = 0x1FF

# Protocol flags (SMFIP_*).
SMFIP_NOCONNECT = 0x000001
SMFIP_NOHELO = 0x000002
SMFIP_NOMAIL = 0x000004
SMFIP_NORCPT = 0x000008
SMFIP_NOBODY = 0x000010
SMFIP_NOHDRS = 0x000020
SMFIP_NOEOH = 0x000040
SMFIP_NR_HDR = 0x000080
SMFIP_NOUNKNOWN = 0x000100
SMFIP_NODATA = 0x000200
SMFIP_SKIP = 0x000400
SMFIP_RCPT_REJ = 0x000800
SMFIP_NR_CONN = 0x001000
SMFIP_NR_HELO = 0x002000
SMFIP_NR_MAIL = 0x004000
SMFIP_NR_RCPT = 0x008000
SMFIP_NR_DATA = 0x010000
SMFIP_NR_UNKN = 0x020000
SMFIP_NR_EOH = 0x040000
SMFIP_NR_BODY = 0x080000
SMFIP_HDR_LEADSPC = 0x100000
SMFI_CURR_PROT = 0x1FFFFF

PROTOCOL_FLAG_NAMES = {
    SMFIP_NOCONNECT: "NOCONNECT", SMFIP_NOHELO: "NOHELO", SMFIP_NOMAIL: "NOMAIL",
    SMFIP_NORCPT: "NORCPT", SMFIP_NOBODY: "NOBODY", SMFIP_NOHDRS: "NOHDRS",
    SMFIP_NOEOH: "NOEOH", SMFIP_NR_HDR: "NR_HDR", SMFIP_NOUNKNOWN: "NOUNKNOWN",
    SMFIP_NODATA: "NODATA", SMFIP_SKIP: "SKIP", SMFIP_RCPT_REJ: "RCPT_REJ",
    SMFIP_NR_CONN: "NR_CONN", SMFIP_NR_HELO: "NR_HELO", SMFIP_NR_MAIL: "NR_MAIL",
    SMFIP_NR_RCPT: "NR_RCPT", SMFIP_NR_DATA: "NR_DATA", SMFIP_NR_UNKN: "NR_UNKN",
    SMFIP_NR_EOH: "NR_EOH", SMFIP_NR_BODY: "NR_BODY", SMFIP_HDR_LEADSPC: "HDR_LEADSPC",
}
ACTION_FLAG_NAMES = {
    SMFIF_ADDHDRS: "ADDHDRS", SMFIF_CHGBODY: "CHGBODY", SMFIF_ADDRCPT: "ADDRCPT",
    SMFIF_DELRCPT: "DELRCPT", SMFIF_CHGHDRS: "CHGHDRS", SMFIF_QUARANTINE: "QUARANTINE",
    SMFIF_CHGFROM: "CHGFROM", SMFIF_ADDRCPT_PAR: "ADDRCPT_PAR", SMFIF_SETSYMLIST: "SETSYMLIST",
}

# Which protocol flags govern each step: (do-not-send flag, no-reply flag).
STEP_FLAGS = {
    SMFIC_CONNECT: (SMFIP_NOCONNECT, SMFIP_NR_CONN),
    SMFIC_HELO: (SMFIP_NOHELO, SMFIP_NR_HELO),
    SMFIC_MAIL: (SMFIP_NOMAIL, SMFIP_NR_MAIL),
    SMFIC_RCPT: (SMFIP_NORCPT, SMFIP_NR_RCPT),
    SMFIC_DATA: (SMFIP_NODATA, SMFIP_NR_DATA),
    SMFIC_HEADER: (SMFIP_NOHDRS, SMFIP_NR_HDR),
    SMFIC_EOH: (SMFIP_NOEOH, SMFIP_NR_EOH),
    SMFIC_BODY: (SMFIP_NOBODY, SMFIP_NR_BODY),
    SMFIC_UNKNOWN: (SMFIP_NOUNKNOWN, SMFIP_NR_UNKN),
}

# Replies that end a message (or, before DATA, the step's command); '4'
# and 'f' end the whole connection.
FINAL_LETTERS = frozenset("artdy4f")
# Replies allowed only at end of message, before its final reply.
MODIFICATION_LETTERS = frozenset("+-2bhimqe")


class MilterError(Exception):
    """Anything that went wrong talking to the filter."""


class FilterTimeout(MilterError):
    """The filter sent or read nothing within the timeout."""


class FilterClosed(MilterError):
    """The filter closed or reset the connection."""


class FilterUnreachable(MilterError):
    """No connection to the filter could be opened."""


class ProtocolViolation(MilterError):
    """The filter said something the protocol forbids here."""


def flag_names(value, names):
    """Names of the bits set in value, e.g. "NR_HDR|SKIP"; unknown bits in hex."""
    out = [n for bit, n in sorted(names.items()) if value & bit]
    rest = value & ~sum(names)
    if rest:
        out.append(hex(rest))
    return "|".join(out) or "0"


def as_bytes(value):
    """str as UTF-8 (lone surrogates kept as raw bytes), bytes as they are."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogateescape")


def cstrings(data):
    """The NUL-terminated strings in data, decoded leniently."""
    parts = data.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "replace") for p in parts]


class Reply:
    """One reply from the filter: its letter and data.

    letter is None when no reply was read; note then says why: "no-reply"
    (the filter marked the step SMFIP_NR_*) or "not-sent" (it asked for
    the step not to be sent at all).
    """

    __slots__ = ("letter", "data", "note")

    def __init__(self, letter, data=b"", note=""):
        self.letter = letter
        self.data = data
        self.note = note

    def __iter__(self):
        return iter((self.letter, self.data))

    def __eq__(self, other):
        return isinstance(other, Reply) and (self.letter, self.data) == (other.letter, other.data)

    def __repr__(self):
        return f"Reply({self.letter!r}, {self.data!r}, note={self.note!r})"

    @property
    def text(self):
        """The data as text: for 'y' the SMTP reply, e.g. "550 5.7.1 Message rejected"."""
        return self.data.rstrip(b"\0").decode("utf-8", "replace")

    @property
    def smtp_code(self):
        """The SMTP code of a 'y' reply as an int, else None."""
        if self.letter == SMFIR_REPLYCODE and self.text[:3].isdigit():
            return int(self.text[:3])
        return None

    @property
    def is_final(self):
        return self.letter in FINAL_LETTERS

    @property
    def proceeds(self):
        """The MTA goes on: continue, or no reply expected."""
        return self.letter in (None, SMFIR_CONTINUE)

    @property
    def is_tempfail(self):
        return self.letter == SMFIR_TEMPFAIL or (self.smtp_code or 0) // 100 == 4

    @property
    def is_reject(self):
        return self.letter == SMFIR_REJECT or (self.smtp_code or 0) // 100 == 5

    def __str__(self):
        """One line for logs and got/want: "c", "y 550 5.7.1 ...", "-" (none)."""
        if self.letter is None:
            return f"- ({self.note})" if self.note else "-"
        if self.letter == SMFIR_REPLYCODE:
            return f"y {self.text}"
        if self.data:
            return f"{self.letter} {self.data!r}"
        return self.letter


class Modification:
    """One modification action sent at end of message.

    letter is the SMFIR_* letter; the other fields depend on it:
    h (add header): name, value; m (change header): index, name, value
    (an empty value deletes); i (insert header): index, name, value;
    q (quarantine): value is the reason; + - 2 e: value is the address
    (args holds ESMTP arguments); b (replace body): raw is the chunk.
    """

    __slots__ = ("letter", "name", "value", "index", "args", "raw")

    def __init__(self, letter, raw):
        self.letter = letter
        self.raw = raw
        self.name = ""
        self.value = ""
        self.index = 0
        self.args = []
        if letter in (SMFIR_CHGHEADER, SMFIR_INSHEADER):
            if len(raw) < 4:
                raise ProtocolViolation(f"'{letter}' with {len(raw)} bytes, want an index and a header")
            self.index = struct.unpack("!I", raw[:4])[0]
            fields = cstrings(raw[4:]) + ["", ""]
            self.name, self.value = fields[0], fields[1]
        elif letter == SMFIR_ADDHEADER:
            fields = cstrings(raw) + ["", ""]
            self.name, self.value = fields[0], fields[1]
        elif letter in (SMFIR_QUARANTINE, SMFIR_ADDRCPT, SMFIR_DELRCPT, SMFIR_ADDRCPT_PAR, SMFIR_CHGFROM):
            fields = cstrings(raw) + [""]
            self.value, self.args = fields[0], fields[1:-1]

    def __repr__(self):
        if self.letter == SMFIR_CHGHEADER and self.value == "":
            return f"m(delete {self.name}#{self.index})"
        if self.letter in (SMFIR_CHGHEADER, SMFIR_INSHEADER):
            return f"{self.letter}({self.name}#{self.index}: {self.value})"
        if self.letter == SMFIR_ADDHEADER:
            return f"h({self.name}: {self.value})"
        if self.letter == SMFIR_REPLBODY:
            return f"b({len(self.raw)} bytes)"
        return f"{self.letter}({self.value})"


class EomResult:
    """What the filter answered at end of message."""

    def __init__(self, reply, modifications):
        self.reply = reply
        self.modifications = modifications

    def _of(self, letter):
        return [m for m in self.modifications if m.letter == letter]

    def added_headers(self):
        """[(name, value)] of every 'h', in order."""
        return [(m.name, m.value) for m in self._of(SMFIR_ADDHEADER)]

    def added(self, name):
        """Values of added headers called name (case-insensitive)."""
        return [v for n, v in self.added_headers() if n.lower() == name.lower()]

    def deleted_headers(self):
        """[(name, index)] of every 'm' with an empty value, in order."""
        return [(m.name, m.index) for m in self._of(SMFIR_CHGHEADER) if m.value == ""]

    def changed_headers(self):
        """[(name, index, value)] of every 'm' with a value."""
        return [(m.name, m.index, m.value) for m in self._of(SMFIR_CHGHEADER) if m.value != ""]

    def inserted_headers(self):
        """[(index, name, value)] of every 'i'."""
        return [(m.index, m.name, m.value) for m in self._of(SMFIR_INSHEADER)]

    def quarantine_reasons(self):
        return [m.value for m in self._of(SMFIR_QUARANTINE)]

    def __str__(self):
        mods = " ".join(repr(m) for m in self.modifications)
        return f"{self.reply}" + (f" [{mods}]" if mods else "")


class Session:
    """One milter connection, driven one protocol step at a time."""

    def __init__(self, sock, timeout=10.0):
        self.sock = sock
        self.timeout = timeout
        self.sock.settimeout(timeout)
        # What negotiation settled; before it, nothing is skipped.
        self.version = None
        self.actions = 0
        self.protocol = 0
        self.macro_lists = {}  # stage number -> macro names the filter asked for
        # Replies that came for a step marked "no reply", or before any step.
        self.unsolicited = []
        self.body_chunks_sent = 0
        self.last_command = ""  # letter of the last packet sent, for reports
        self.closed = False

    # -- connection ---------------------------------------------------------

    @classmethod
    def open(cls, host, port, timeout=10.0):
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise FilterUnreachable(f"cannot connect to {host}:{port}: {e}") from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, timeout)

    @classmethod
    def open_unix(cls, path, timeout=10.0):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except OSError as e:
            sock.close()
            raise FilterUnreachable(f"cannot connect to {path}: {e}") from e
        return cls(sock, timeout)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    def reset(self):
        """Close abruptly: a TCP RST instead of an orderly FIN."""
        if not self.closed:
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def set_timeout(self, seconds):
        self.timeout = seconds
        self.sock.settimeout(seconds)

    # -- wire ---------------------------------------------------------------

    def send_raw(self, data):
        """Write bytes as they are (for malformed packets)."""
        self._drain_unsolicited()
        try:
            self.sock.sendall(data)
        except socket.timeout as e:
            raise FilterTimeout(f"filter did not read {len(data)} bytes within {self.timeout}s") from e
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as e:
            raise FilterClosed(f"filter closed the connection while we were sending: {e}") from e

    def send_packet(self, cmd, data=b""):
        """One packet: 4-byte length (command byte included), command, data."""
        cmd = as_bytes(cmd)
        data = as_bytes(data)
        self.last_command = cmd.decode("latin-1")
        self.send_raw(struct.pack("!I", len(cmd) + len(data)) + cmd + data)

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                part = self.sock.recv(min(n - len(buf), 1 << 16))
            except socket.timeout as e:
                raise FilterTimeout(f"no reply within {self.timeout}s") from e
            except (ConnectionResetError, ConnectionAbortedError) as e:
                raise FilterClosed(f"filter reset the connection: {e}") from e
            if not part:
                raise FilterClosed("filter closed the connection"
                                   + (f" after {len(buf)} of {n} bytes" if buf else ""))
            buf += part
        return bytes(buf)

    def read_packet(self):
        """One packet from the filter as (letter, data)."""
        (length,) = struct.unpack("!I", self._recv_exact(4))
        if length < 1 or length > MAX_REPLY:
            raise ProtocolViolation(f"unreasonable packet length: {length} (1..{MAX_REPLY})")
        body = self._recv_exact(length)
        return chr(body[0]), body[1:]

    def _drain_unsolicited(self):
        """Keep whatever the filter sent without being asked: a reply to a
        step it marked no-reply. Best effort: only what has arrived by now."""
        if self.closed:
            return
        while True:
            try:
                readable, _, _ = select.select([self.sock], [], [], 0)
            except (OSError, ValueError):
                return
            if not readable:
                return
            try:
                self.unsolicited.append(Reply(*self.read_packet()))
            except FilterClosed:
                return  # the next read reports it
            except MilterError:
                return

    def _read_reply(self, step):
        """The reply to a step, past any progress notices."""
        while True:
            letter, data = self.read_packet()
            if letter == SMFIR_PROGRESS:
                continue
            if letter in MODIFICATION_LETTERS:
                raise ProtocolViolation(f"modification '{letter}' {data!r} in reply to {step!r}; "
                                        "allowed only at end of message")
            return Reply(letter, data)

    # -- steps --------------------------------------------------------------

    def _step(self, cmd, data, macros=None):
        """Send a step unless the filter asked not to get it; read its reply
        unless the filter marked it no-reply."""
        no_send, no_reply = STEP_FLAGS.get(cmd, (0, 0))
        if self.protocol & no_send:
            return Reply(None, note="not-sent")
        if macros is not None:
            self.macro(cmd, macros)
        self.send_packet(cmd, data)
        if self.protocol & no_reply:
            return Reply(None, note="no-reply")
        return self._read_reply(cmd.decode())

    def negotiate(self, version=PROTOCOL_VERSION, actions=SMFI_CURR_ACTS, protocol=SMFI_CURR_PROT):
        """SMFIC_OPTNEG: offer version, actions and protocol flags; record the
        filter's answer in version, actions, protocol and macro_lists."""
        self.send_packet(SMFIC_OPTNEG, struct.pack("!III", version, actions, protocol))
        letter, data = self.read_packet()
        if letter != "O":
            raise ProtocolViolation(f"reply {letter!r} {data!r} to option negotiation, want 'O'")
        if len(data) < 12:
            raise ProtocolViolation(f"option negotiation reply of {len(data)} bytes, want at least 12")
        self.version, self.actions, self.protocol = struct.unpack("!III", data[:12])
        if self.actions & ~actions:
            raise ProtocolViolation(f"filter wants actions {flag_names(self.actions & ~actions, ACTION_FLAG_NAMES)}"
                                    " that were not offered")
        if self.protocol & ~protocol:
            raise ProtocolViolation(f"filter wants protocol flags "
                                    f"{flag_names(self.protocol & ~protocol, PROTOCOL_FLAG_NAMES)} that were not offered")
        rest = data[12:]
        while len(rest) >= 5:
            (stage,) = struct.unpack("!I", rest[:4])
            names, _, rest = rest[4:].partition(b"\0")
            self.macro_lists[stage] = names.decode("utf-8", "replace").split()
        return Reply("O", data)

    def macro(self, cmd, macros):
        """SMFIC_MACRO: define macros (a dict, name -> value) for command cmd.
        Names as an MTA sends them: "i", "{client_addr}"."""
        data = as_bytes(cmd)[:1]
        for name, value in macros.items():
            data += as_bytes(name) + b"\0" + as_bytes(value) + b"\0"
        self.send_packet(SMFIC_MACRO, data)

    def connect(self, hostname, family=FAMILY_INET, address="", port=0, macros=None):
        """SMFIC_CONNECT. family "U" sends no port and no address."""
        data = as_bytes(hostname) + b"\0" + as_bytes(family)[:1]
        if family != FAMILY_UNKNOWN:
            data += struct.pack("!H", port) + as_bytes(address) + b"\0"
        return self._step(SMFIC_CONNECT, data, macros)

    def helo(self, name, macros=None):
        return self._step(SMFIC_HELO, as_bytes(name) + b"\0", macros)

    def mail(self, sender, *esmtp_args, macros=None):
        """SMFIC_MAIL: sender as in the SMTP command, brackets included."""
        data = b"".join(as_bytes(a) + b"\0" for a in (sender,) + esmtp_args)
        return self._step(SMFIC_MAIL, data, macros)

    def rcpt(self, recipient, *esmtp_args, macros=None):
        data = b"".join(as_bytes(a) + b"\0" for a in (recipient,) + esmtp_args)
        return self._step(SMFIC_RCPT, data, macros)

    def data(self, macros=None):
        return self._step(SMFIC_DATA, b"", macros)

    def header(self, name, value):
        return self._step(SMFIC_HEADER, as_bytes(name) + b"\0" + as_bytes(value) + b"\0")

    def eoh(self, macros=None):
        return self._step(SMFIC_EOH, b"", macros)

    def unknown(self, command):
        return self._step(SMFIC_UNKNOWN, as_bytes(command) + b"\0")

    def body(self, content, chunk_size=MAX_CHUNK):
        """SMFIC_BODY: content (bytes or str, or a list of them, each sent as
        chunks of its own) in chunks of at most chunk_size bytes. Stops early
        on SMFIR_SKIP or on any reply other than continue. Returns the last
        reply read (Reply(None) if none was expected)."""
        if self.protocol & SMFIP_NOBODY:
            return Reply(None, note="not-sent")
        if not 0 < chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk_size {chunk_size} outside 1..{MAX_CHUNK}")
        pieces = content if isinstance(content, list) else [content]
        last = Reply(None, note="no-reply")
        for piece in pieces:
            piece = as_bytes(piece)
            for at in range(0, len(piece), chunk_size):
                last = self._step(SMFIC_BODY, piece[at:at + chunk_size])
                self.body_chunks_sent += 1
                if not last.proceeds:
                    return last
        return last

    def eom(self, macros=None):
        """SMFIC_BODYEOB: collect modifications until the final reply."""
        if macros is not None:
            self.macro(SMFIC_BODYEOB, macros)
        self.send_packet(SMFIC_BODYEOB)
        mods = []
        while True:
            letter, data = self.read_packet()
            if letter == SMFIR_PROGRESS:
                continue
            if letter in MODIFICATION_LETTERS:
                mods.append(Modification(letter, data))
                continue
            if letter in FINAL_LETTERS or letter == SMFIR_CONTINUE:
                return EomResult(Reply(letter, data), mods)
            raise ProtocolViolation(f"reply {letter!r} {data!r} at end of message")

    def abort(self):
        """SMFIC_ABORT: the message is abandoned; the filter does not reply."""
        self.send_packet(SMFIC_ABORT)

    def quit(self):
        """SMFIC_QUIT, then close."""
        try:
            self.send_packet(SMFIC_QUIT)
        except MilterError:
            pass
        self.close()

    # -- whole transactions ---------------------------------------------------

    def begin(self, client_ip="192.0.2.1", helo="client.example", hostname=None,
              family=None, port=25, macros=True):
        """Negotiate, then connect and HELO as an MTA would. With macros, the
        connect macros Postfix sends ({client_addr}, j, {daemon_name}) go
        first. Returns the first reply that does not let the MTA go on, or
        the HELO reply."""
        self.negotiate()
        if family is None:
            family = FAMILY_INET6 if ":" in client_ip else FAMILY_INET
        if hostname is None:
            hostname = helo if family != FAMILY_UNKNOWN else "localhost"
        m = {"j": "mx.rampart.test", "{daemon_name}": "smtpd", "{client_addr}": client_ip} if macros else None
        r = self.connect(hostname, family, client_ip, port, macros=m)
        if not r.proceeds:
            return r
        return self.helo(helo)

    def send_message(self, sender, recipients, headers, body, queue_id=None, chunk_size=MAX_CHUNK):
        """One message, MAIL to end of message, stopping where an MTA would.
        headers is a list of (name, value); body bytes/str or a list of
        chunks. With queue_id the macro "i" goes with MAIL, EOH and EOM.
        Returns a Transaction saying where it stopped and why."""
        t = Transaction()
        qid = {"i": queue_id} if queue_id else None
        t.reply = self.mail(sender, macros=qid)
        t.stage = "mail"
        if not t.reply.proceeds:
            return t
        for r in recipients:
            reply = self.rcpt(r)
            t.rcpt_replies.append(reply)
            if reply.letter in (SMFIR_ACCEPT, SMFIR_DISCARD):
                t.stage, t.reply = "rcpt", reply
                return t
        if t.rcpt_replies and not any(r.proceeds for r in t.rcpt_replies):
            t.stage, t.reply = "rcpt", t.rcpt_replies[-1]
            return t
        t.stage, t.reply = "data", self.data()
        if not t.reply.proceeds:
            return t
        t.stage = "header"
        for name, value in headers:
            t.reply = self.header(name, value)
            if not t.reply.proceeds:
                return t
        t.stage, t.reply = "eoh", self.eoh(macros=qid)
        if not t.reply.proceeds:
            return t
        t.stage, t.reply = "body", self.body(body, chunk_size)
        if not (t.reply.proceeds or t.reply.letter == SMFIR_SKIP):
            return t
        t.stage = "eom"
        t.eom = self.eom(macros=qid)
        t.reply = t.eom.reply
        return t


class Transaction:
    """Where a message stopped (mail, rcpt, data, header, eoh, body, eom)
    and the reply that stopped it or ended it; eom is the EomResult when
    end of message was reached."""

    def __init__(self):
        self.stage = ""
        self.reply = Reply(None)
        self.rcpt_replies = []
        self.eom = None

    @property
    def accepted(self):
        """Accepted for delivery: end of message reached and answered accept/continue."""
        return self.eom is not None and self.reply.letter in (SMFIR_ACCEPT, SMFIR_CONTINUE)

    def __str__(self):
        return f"{self.stage}: {self.eom if self.eom is not None else self.reply}"


def parse_message(raw):
    """A message as bytes -> ([(name, value)], body): headers unfolded the
    way an MTA passes them (no leading space, continuation lines joined
    with CRLF), body with CRLF line ends."""
    raw = raw.replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b"\r\n" + line)
        elif b":" in line:
            name, _, value = line.partition(b":")
            headers.append((name, value.lstrip(b" ")))
    return headers, body.replace(b"\n", b"\r\n")


def main(argv=None):
    p = argparse.ArgumentParser(description="Send one message to a milter and print every reply.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--client-ip", default="192.0.2.1")
    p.add_argument("--helo", default="client.example")
    p.add_argument("--from", dest="sender", default="<alice@sender.example>")
    p.add_argument("--rcpt", action="append", default=[])
    p.add_argument("--queue-id", default="4ABC123")
    p.add_argument("--file", help="the message (headers, blank line, body); default: a short clean one")
    a = p.parse_args(argv)
    raw = b"Subject: hello\n\nHello.\n"
    if a.file:
        with open(a.file, "rb") as f:
            raw = f.read()
    headers, body = parse_message(raw)
    with Session.open(a.host, a.port, a.timeout) as s:
        r = s.begin(a.client_ip, a.helo)
        print(f"negotiated: version={s.version} actions={flag_names(s.actions, ACTION_FLAG_NAMES)} "
              f"protocol={flag_names(s.protocol, PROTOCOL_FLAG_NAMES)}")
        print(f"connect/helo: {r}")
        if not r.proceeds:
            return 1
        t = s.send_message(a.sender, a.rcpt or ["<bob@rcpt.example>"], headers, body, a.queue_id)
        for i, rr in enumerate(t.rcpt_replies):
            print(f"rcpt {i + 1}: {rr}")
        print(f"{t}")
        if s.unsolicited:
            print(f"unsolicited replies: {[str(u) for u in s.unsolicited]}")
        s.quit()
        return 0 if t.accepted else 1


if __name__ == "__main__":
    sys.exit(main())
