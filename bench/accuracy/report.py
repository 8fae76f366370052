#!/usr/bin/env python3
"""
NAME
    report.py - the accuracy table from the per-message scores

SYNOPSIS
    report.py SCORES.tsv [--head FILE] [-o FILE]

DESCRIPTION
    Reads the scores bench/accuracy/run wrote (system, group, class, path,
    score, flagged, ms; one header line) and prints, one column per
    system:

      - messages scored (ham/spam) and errors (no verdict; left out of
        every figure below);
      - detection rate (spam flagged / spam) and false-positive rate (ham
        flagged / ham) at the system's own default verdict (the flagged
        column);
      - detection at a false-positive rate of at most 0.1%, 0.5% and 1%:
        the threshold is swept over the recorded scores, a message counts
        as spam when its score is above the threshold, and the lowest
        threshold that flags at most floor(rate x ham) ham messages is
        taken. Ties at the threshold count as not flagged, so a system
        whose scores tie cannot gain from them;
      - AUC: the probability that a random spam message scores above a
        random ham message, ties counted half (Mann-Whitney);
      - per corpus group: detection for the spam groups, false positives
        for the ham groups, at the default verdict;
      - scan time per message: mean and p95 (nearest rank) of the wall
        times recorded.

    --head FILE prints that file first (the run's machine, versions and
    settings). -o FILE writes the report there as well as to stdout.

    Standard library only, so that a result can be re-read anywhere.
"""

import argparse
import math
import sys

PREFERRED_ORDER = ("rampart", "spamd", "rspamd")
FP_LIMITS = (0.001, 0.005, 0.01)


def read_scores(path):
    systems = {}
    with open(path, encoding="utf-8") as f:
        head = f.readline().rstrip("\n").split("\t")
        want = ["system", "group", "class", "path", "score", "flagged", "ms"]
        if head != want:
            sys.exit(f"report: {path}: header {head}, want {want}")
        for n, line in enumerate(f, 2):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 7:
                sys.exit(f"report: {path}:{n}: {len(fields)} fields, want 7")
            system, group, cls, mpath, score, flagged, ms = fields
            systems.setdefault(system, []).append(
                {"group": group, "class": cls, "path": mpath, "score": float(score),
                 "flagged": flagged, "ms": float(ms)})
    return systems


def auc(ham, spam):
    """Mann-Whitney U / (n_ham x n_spam), by ranks with ties averaged."""
    if not ham or not spam:
        return float("nan")
    allv = sorted([(s, 0) for s in ham] + [(s, 1) for s in spam])
    rank_sum = 0.0
    i = 0
    while i < len(allv):
        j = i
        while j < len(allv) and allv[j][0] == allv[i][0]:
            j += 1
        mid = (i + 1 + j) / 2.0  # mean of ranks i+1 .. j
        rank_sum += mid * sum(1 for k in range(i, j) if allv[k][1] == 1)
        i = j
    u = rank_sum - len(spam) * (len(spam) + 1) / 2.0
    return u / (len(ham) * len(spam))


def detection_at_fp(ham, spam, rate):
    """(detection, threshold): spam scoring above the threshold at which at
    most floor(rate x len(ham)) ham messages score above it."""
    allowed = int(math.floor(rate * len(ham) + 1e-9))
    hs = sorted(ham, reverse=True)
    if allowed >= len(hs):
        return 1.0, float("-inf")
    threshold = hs[allowed]  # the highest ham score that must not be flagged
    caught = sum(1 for s in spam if s > threshold)
    return caught / len(spam) if spam else float("nan"), threshold


def p95(values):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[max(0, math.ceil(0.95 * len(v)) - 1)]


def pct(x):
    return "-" if x != x else f"{100.0 * x:.2f}%"


def frac(k, n):
    return "-" if n == 0 else f"{100.0 * k / n:.2f}% ({k}/{n})"


def summarize(rows):
    ok = [r for r in rows if r["flagged"] != "error"]
    ham = [r for r in ok if r["class"] == "ham"]
    spam = [r for r in ok if r["class"] == "spam"]
    s = {"errors": len(rows) - len(ok), "ham": len(ham), "spam": len(spam)}
    s["tp"] = sum(1 for r in spam if r["flagged"] == "1")
    s["fp"] = sum(1 for r in ham if r["flagged"] == "1")
    hs, ss = [r["score"] for r in ham], [r["score"] for r in spam]
    for rate in FP_LIMITS:
        s[rate] = detection_at_fp(hs, ss, rate)
    s["auc"] = auc(hs, ss)
    s["groups"] = {}
    for r in ok:
        g = s["groups"].setdefault(r["group"], [r["class"], 0, 0])
        g[1] += r["flagged"] == "1"
        g[2] += 1
    ms = [r["ms"] for r in rows]
    s["ms_mean"] = sum(ms) / len(ms) if ms else float("nan")
    s["ms_p95"] = p95(ms)
    return s


def table(systems):
    names = [n for n in PREFERRED_ORDER if n in systems] + sorted(n for n in systems if n not in PREFERRED_ORDER)
    sums = {n: summarize(systems[n]) for n in names}
    lines = []

    def row(label, cells):
        lines.append(f"{label:<30}" + "".join(f"{c:>24}" for c in cells))

    row("", names)
    row("messages scored (ham/spam)", [f"{sums[n]['ham']}/{sums[n]['spam']}" for n in names])
    row("errors (no verdict)", [str(sums[n]["errors"]) for n in names])
    lines.append("at the default verdict")
    row("  detection", [frac(sums[n]["tp"], sums[n]["spam"]) for n in names])
    row("  false positives", [frac(sums[n]["fp"], sums[n]["ham"]) for n in names])
    lines.append("threshold swept over the scores")
    for rate in FP_LIMITS:
        row(f"  detection at FP <= {100 * rate:g}%",
            [f"{pct(sums[n][rate][0])} (>{sums[n][rate][1]:.2f})" for n in names])
    row("  AUC", [f"{sums[n]['auc']:.4f}" for n in names])
    groups = sorted({g for n in names for g in sums[n]["groups"]},
                    key=lambda g: (systems_class(sums, g) == "ham", g))
    lines.append("per group, at the default verdict")
    for g in groups:
        cls = systems_class(sums, g)
        label = f"  {g} {'detection' if cls == 'spam' else 'FP'}"
        cells = []
        for n in names:
            c = sums[n]["groups"].get(g)
            cells.append(frac(c[1], c[2]) if c else "-")
        row(label, cells)
    lines.append("scan wall time per message")
    row("  mean ms", [f"{sums[n]['ms_mean']:.1f}" for n in names])
    row("  p95 ms", [f"{sums[n]['ms_p95']:.1f}" for n in names])
    return "\n".join(lines) + "\n"


def systems_class(sums, group):
    for s in sums.values():
        if group in s["groups"]:
            return s["groups"][group][0]
    return "ham"


def main():
    p = argparse.ArgumentParser(description="The accuracy table from per-message scores.")
    p.add_argument("scores")
    p.add_argument("--head", help="a file printed before the table")
    p.add_argument("-o", "--out", help="also write the report here")
    a = p.parse_args()
    text = ""
    if a.head:
        with open(a.head, encoding="utf-8") as f:
            text = f.read().rstrip("\n") + "\n\n"
    systems = read_scores(a.scores)
    if not systems:
        sys.exit(f"report: {a.scores}: no scores")
    text += table(systems)
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
