#!/usr/bin/env python3
"""Compare token ids line by line against the reference.

  compare.py ids    CORPUS REF GOT [SKIP_CHARS]
  compare.py counts CORPUS REF GOT

REF holds the reference's JSON id arrays, one line per corpus line. In ids
mode GOT must hold the same arrays; in counts mode GOT holds one count a
line, which must equal the length of the reference array. SKIP_CHARS
(ids mode) leaves out corpus strings containing any of those characters,
and says how many. Prints the first mismatches (the string and both
sides) and the count; exit 0 only when nothing differs.
"""
import json
import sys

SHOW = 5


def lines(path):
    # Only \n ends a line: JSON text may hold U+2028, U+0085 and the like.
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    return text[:-1].split("\n") if text.endswith("\n") else \
        (text.split("\n") if text else [])


def clip(s, n=300):
    return s if len(s) <= n else s[:n] + "... (%d chars)" % len(s)


def main(argv):
    if len(argv) not in (5, 6) or argv[1] not in ("ids", "counts"):
        sys.stderr.write(__doc__)
        return 2
    mode, corpus, ref, got = argv[1], lines(argv[2]), lines(argv[3]), lines(argv[4])
    skip = argv[5] if len(argv) == 6 else ""
    if len(ref) != len(corpus):
        print("reference has %d lines for %d corpus strings" % (len(ref), len(corpus)))
        return 1
    if len(got) != len(corpus):
        print("%s has %d lines for %d corpus strings" % (argv[4], len(got), len(corpus)))
    bad = skipped = 0
    for i, text in enumerate(corpus):
        s = json.loads(text)
        if skip and any(c in s for c in skip):
            skipped += 1
            continue
        if i >= len(got):
            print("output stops before line %d: %s" % (
                i + 1, clip(json.dumps(s, ensure_ascii=False))))
            bad += len(corpus) - i
            break
        want = json.loads(ref[i])
        g = got[i]
        try:
            have = json.loads(g)
        except ValueError:
            have = g
        ok = have == want if mode == "ids" else have == len(want)
        if ok and mode == "ids" and not isinstance(have, list):
            ok = False
        if not ok:
            bad += 1
            if bad <= SHOW:
                print("line %d: %s" % (i + 1, clip(json.dumps(s, ensure_ascii=False))))
                print("  reference: %s" % clip(json.dumps(want) if mode == "ids" else
                                               "%d tokens" % len(want)))
                print("  got:       %s" % clip(g))
    extra = max(0, len(got) - len(corpus))
    print("%s: %d of %d strings differ%s%s" % (
        mode, bad, len(corpus), ", %d extra lines" % extra if extra else "",
        ", %d skipped" % skipped if skipped else ""))
    return 0 if bad == 0 and len(got) == len(corpus) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
