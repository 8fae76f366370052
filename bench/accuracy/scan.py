#!/usr/bin/env python3
"""
NAME
    scan.py - score the test half of the corpus with one filter

SYNOPSIS
    scan.py rampart --milter HOST:PORT  --list TSV --corpus DIR -o FILE [options]
    scan.py spamd   --spamd HOST:PORT   --list TSV --corpus DIR -o FILE [options]
    scan.py rspamd  --rspamd HOST:PORT  --list TSV --corpus DIR -o FILE [options]

DESCRIPTION
    Reads the split list (GROUP<TAB>CLASS<TAB>PATH, PATH relative to the
    corpus package's data/ folder) and sends each message, as bench/corpus
    wrote it (DIR/CLASS/GROUP-NAME.eml: the mbox "From " line dropped), to
    the filter, --jobs at a time, and writes one line per message:

        system  group  class  path  score  flagged  ms

    after a header line, in list order. flagged is 1 when the filter's own
    default verdict says spam, 0 when not, "error" when the filter gave no
    verdict (score "nan" then); ms is the wall time of that one message as
    the client sees it: connection, transfer, scan and reply, including any
    wait for a CPU while the other --jobs scans run.

    rampart   the milter protocol (tests/integration/milterclient.py), one
              connection per message as an MTA opens it: connect from
              198.18.X.Y (one address per message, from the benchmarking
              range), HELO, MAIL FROM the From header's address, RCPT TO
              one local recipient, headers, body, end of message. The score
              is X-Spam-Score (X-Spam-Status "score=" when absent);
              flagged when X-Spam-Status says Yes, or the reply is a
              reject (5xx), discard or quarantine. A reject carries no
              score: it is recorded as inf, above every scored message.
              A tempfail is an error (rampart gives it only when Redis
              failed or a limit was hit, which is not a verdict).
    spamd     spamc -x -c: prints "score/required"; flagged when score >=
              required (spamc's exit status 1).
    rspamd    HTTP POST /checkv2 to the normal worker with the same
              envelope as rampart's (IP, Hostname, Helo, From, Rcpt,
              Queue-Id headers). flagged when the action is one that marks or
              refuses the message: "add header", "rewrite subject" or
              "reject" ("no action", "greylist" and "soft reject" are
              not spam verdicts).

    --detail FILE writes, per message, what the filter said beyond the
    score (rampart's X-Rampart-Symbols, rspamd's symbols, spamd's
    threshold), for reading by hand.

    --limit N takes N messages of each class, spread evenly over the
    list (so that every group is in a smoke run).

EXIT STATUS
    0 when every message was scanned (errors included, and counted on
    stderr), 2 on bad usage or when the list or a message cannot be read.
"""

import argparse
import concurrent.futures
import email.utils
import http.client
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

import milterclient as mc  # noqa: E402

RECIPIENT = "<user@rcpt.example>"
HELO = "mx.client.example"
# spamc refuses larger messages unless told: make it scan every message.
SPAMC_MAX_SIZE = 64 * 1024 * 1024
RSPAMD_SPAM_ACTIONS = frozenset(("add header", "rewrite subject", "reject"))


def read_list(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) != 3 or fields[1] not in ("ham", "spam"):
                sys.exit(f"scan: {path}:{n}: want GROUP<TAB>ham|spam<TAB>PATH, got {line!r}")
            rows.append(tuple(fields))
    return rows


def spread(rows, limit):
    """At most limit rows of each class, evenly spaced over the list."""
    if limit is None:
        return rows
    keep = set()
    for cls in ("ham", "spam"):
        idx = [i for i, r in enumerate(rows) if r[1] == cls]
        if len(idx) <= limit:
            keep.update(idx)
        else:
            keep.update(idx[k * len(idx) // limit] for k in range(limit))
    return [r for i, r in enumerate(rows) if i in keep]


def eml_path(corpus, group, cls, path):
    """bench/corpus's name for a corpus file: CLASS/GROUP-NAME.eml."""
    name = os.path.basename(path)
    if name.endswith(".txt"):
        name = name[:-4]
    return os.path.join(corpus, cls, f"{group}-{name}.eml")


def envelope_sender(headers):
    """The From header's first address in brackets, else the null sender."""
    for name, value in headers:
        if name.lower() == b"from":
            addr = email.utils.parseaddr(value.decode("latin-1").replace("\r\n", ""))[1]
            if addr and "@" in addr and " " not in addr:
                return f"<{addr}>"
            break
    return "<>"


def client_address(index):
    """198.18.0.0/15, one address per message, never .0 or .255."""
    return f"198.{18 + (index // 64516) % 2}.{(index // 254) % 254 + 1}.{index % 254 + 1}"


# ---------------------------------------------------------------- rampart

def score_from_status(status):
    m = re.search(r"score=(-?[0-9.]+)", status)
    return float(m.group(1)) if m else None


def scan_rampart(args, index, raw):
    host, port = args.milter
    headers, body = mc.parse_message(raw)
    qid = f"ACC{index:06X}"
    ip = client_address(index)
    with mc.Session.open(host, port, timeout=args.timeout) as s:
        r = s.begin(ip, HELO)
        if not r.proceeds:
            return verdict_of_reply(r, None)
        t = s.send_message(envelope_sender(headers), [RECIPIENT], headers, body, qid)
        s.quit()
    if t.eom is None:
        return verdict_of_reply(t.reply, None)
    status = (t.eom.added("X-Spam-Status") or [""])[0]
    score_hdr = (t.eom.added("X-Spam-Score") or [""])[0]
    symbols = (t.eom.added("X-Rampart-Symbols") or [""])[0]
    score = None
    try:
        score = float(score_hdr)
    except ValueError:
        score = score_from_status(status)
    detail = f"status={status!r} symbols={symbols}"
    if t.eom.quarantine_reasons():
        return (score if score is not None else float("inf")), "1", detail + " quarantined"
    if t.reply.letter == mc.SMFIR_DISCARD:
        return (score if score is not None else float("inf")), "1", detail + " discarded"
    if t.reply.is_reject:
        return float("inf"), "1", f"rejected: {t.reply}"
    if t.reply.is_tempfail or t.reply.letter not in (mc.SMFIR_ACCEPT, mc.SMFIR_CONTINUE):
        return float("nan"), "error", f"reply {t.reply}"
    if score is None:
        return float("nan"), "error", f"no score in {status!r}"
    return score, "1" if status.lower().startswith("yes") else "0", detail


def verdict_of_reply(reply, detail):
    if reply.is_reject:
        return float("inf"), "1", f"rejected before end of message: {reply}"
    if reply.letter == mc.SMFIR_DISCARD:
        return float("inf"), "1", f"discarded before end of message: {reply}"
    return float("nan"), "error", f"stopped before end of message: {reply}"


# ---------------------------------------------------------------- spamd

def scan_spamd(args, index, raw):
    host, port = args.spamd
    p = subprocess.run(["spamc", "-x", "-c", "-d", host, "-p", str(port), "-s", str(SPAMC_MAX_SIZE),
                        "-t", str(int(args.timeout))],
                       input=raw, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    out = p.stdout.decode("utf-8", "replace").strip()
    m = re.fullmatch(r"(-?[0-9.]+)/(-?[0-9.]+)", out)
    if p.returncode not in (0, 1) or not m:
        return float("nan"), "error", f"spamc exit {p.returncode}: {out!r} {p.stderr.decode('utf-8', 'replace')!r}"
    score, required = float(m.group(1)), float(m.group(2))
    if required == 0:
        return float("nan"), "error", f"spamc: not scanned ({out})"
    return score, "1" if score >= required else "0", f"required={required}"


# ---------------------------------------------------------------- rspamd

def scan_rspamd(args, index, raw):
    host, port = args.rspamd
    headers, _ = mc.parse_message(raw)
    hdrs = {
        "IP": client_address(index),
        "Helo": HELO,
        # The client's host name, as the milter connect gives it to rampart;
        # without it rspamd looks up the address's PTR (a DNS timeout here).
        "Hostname": HELO,
        "From": envelope_sender(headers).strip("<>"),
        "Rcpt": RECIPIENT.strip("<>"),
        "Queue-Id": f"ACC{index:06X}",
        "Content-Length": str(len(raw)),
    }
    if not hdrs["From"]:
        del hdrs["From"]
    conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
    try:
        conn.request("POST", "/checkv2", body=raw, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    if resp.status != 200:
        return float("nan"), "error", f"HTTP {resp.status}: {data[:200]!r}"
    res = json.loads(data)
    if res.get("is_skipped"):
        return float("nan"), "error", "skipped"
    action = res.get("action", "")
    symbols = ",".join(f"{k}({v.get('score', 0):.2f})" for k, v in
                       sorted(res.get("symbols", {}).items(), key=lambda kv: -kv[1].get("score", 0)))
    detail = f"action={action!r} required={res.get('required_score')} symbols={symbols}"
    return float(res["score"]), "1" if action in RSPAMD_SPAM_ACTIONS else "0", detail


SCANNERS = {"rampart": scan_rampart, "spamd": scan_spamd, "rspamd": scan_rspamd}


def host_port(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"want HOST:PORT, got {text!r}")
    return host, int(port)


def main():
    p = argparse.ArgumentParser(description="Score the corpus's test half with one filter.")
    p.add_argument("system", choices=sorted(SCANNERS))
    p.add_argument("--list", required=True, help="the split list (GROUP, CLASS, PATH)")
    p.add_argument("--corpus", required=True, help="bench/corpus's eml directory")
    p.add_argument("-o", "--out", required=True, help="the scores TSV to write")
    p.add_argument("--detail", help="also write what the filter said per message here")
    p.add_argument("--milter", type=host_port)
    p.add_argument("--spamd", type=host_port)
    p.add_argument("--rspamd", type=host_port)
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--limit", type=int, help="N messages of each class")
    p.add_argument("--timeout", type=float, default=120.0)
    args = p.parse_args()
    if getattr(args, {"rampart": "milter"}.get(args.system, args.system)) is None:
        p.error(f"{args.system} needs --{'milter' if args.system == 'rampart' else args.system} HOST:PORT")

    rows = spread(read_list(args.list), args.limit)
    scan = SCANNERS[args.system]

    def one(i):
        group, cls, path = rows[i]
        with open(eml_path(args.corpus, group, cls, path), "rb") as f:
            raw = f.read()
        t0 = time.perf_counter()
        try:
            score, flagged, detail = scan(args, i, raw)
        except (mc.MilterError, OSError, ValueError, json.JSONDecodeError) as e:
            score, flagged, detail = float("nan"), "error", f"{type(e).__name__}: {e}"
        return score, flagged, (time.perf_counter() - t0) * 1000.0, detail

    results = [None] * len(rows)
    errors = 0
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(one, i): i for i in range(len(rows))}
        for done, fut in enumerate(concurrent.futures.as_completed(futures), 1):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except OSError as e:
                sys.exit(f"scan: cannot read {rows[i][2]}: {e}")
            if results[i][1] == "error":
                errors += 1
                if errors <= 5:
                    print(f"scan: {args.system}: {rows[i][2]}: {results[i][3]}", file=sys.stderr)
            if done % 250 == 0 or done == len(rows):
                print(f"scan: {args.system}: {done}/{len(rows)} messages, {errors} errors, "
                      f"{time.monotonic() - started:.0f} s", file=sys.stderr)

    with open(args.out, "w", encoding="utf-8") as out:
        out.write("system\tgroup\tclass\tpath\tscore\tflagged\tms\n")
        for (group, cls, path), (score, flagged, ms, _) in zip(rows, results):
            out.write(f"{args.system}\t{group}\t{cls}\t{path}\t{score:.3f}\t{flagged}\t{ms:.2f}\n")
    if args.detail:
        with open(args.detail, "w", encoding="utf-8") as out:
            for (group, cls, path), (score, flagged, ms, detail) in zip(rows, results):
                out.write(f"{args.system}\t{path}\t{score:.3f}\t{flagged}\t{detail}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
