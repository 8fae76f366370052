#!/bin/sh
# man-lint.sh - every man page passes "mandoc -Tlint" without a message:
# no error, no warning, not even a style note (lines over 80 bytes in the
# NAME section, unterminated quotes, ...). Exit 77 (skip) without mandoc.
set -u

here=$(cd "$(dirname "$0")" && pwd)
srcdir=${srcdir:-$here/../..}
if ! command -v mandoc >/dev/null 2>&1; then
    echo "SKIP: mandoc not installed (Debian: mandoc)"
    exit 77
fi

failures=0
pages=0
for page in "$srcdir"/man/*.[1-9]; do
    [ -f "$page" ] || continue
    pages=$((pages + 1))
    out=$(mandoc -Tlint "$page" 2>&1)
    if [ -n "$out" ]; then
        echo "not ok: $(basename "$page"): mandoc -Tlint says:"
        printf '%s\n' "$out" | sed 's/^/    /'
        failures=$((failures + 1))
    else
        echo "ok: $(basename "$page")"
    fi
done
if [ "$pages" = 0 ]; then
    echo "not ok: no man page found under $srcdir/man"
    exit 1
fi
[ "$failures" = 0 ] || exit 1
echo "man-lint.sh: $pages pages clean"
