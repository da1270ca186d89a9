#!/usr/bin/env python3
"""Checks metricsd's early-stopping code (src/estop.c, through the
estop_probe helper) against an independent implementation: the binomial
tail summed term by term, anchored with mpmath's loggamma at 30 digits
(no continued fraction, no incomplete beta).

odds(h, t) = I_p(h, t + 1) = P(Binomial(h + t, 1 - p) <= t).

For random (n, p) with n up to 1e8 it checks the defining properties:
min_passing(t) passes and min_passing(t) - 1 does not; the discard count
t fits (min_passing(t) + t <= n) and t + 1 does not. Cases within 1e-9
of the 1 - c boundary are not decidable in double precision and are
skipped (counted). Usage: estop_check.py PROBE [SEED] [CASES]."""
import math
import random
import subprocess
import sys

import mpmath

mpmath.mp.dps = 30
C = 0.99


def odds(p, h, t):
    """P(X <= t), X ~ Binomial(h + t, 1 - p), as a float."""
    n = h + t
    q = 1.0 - p
    if t >= n:
        return 1.0
    # log of the k = t term, in 30 digits.
    lt = (mpmath.loggamma(n + 1) - mpmath.loggamma(t + 1)
          - mpmath.loggamma(n - t + 1) + t * mpmath.log(mpmath.mpf(q))
          + (n - t) * mpmath.log(mpmath.mpf(p)))
    # Sum the terms k = t, t-1, ... relative to the k = t one: the ratio
    # term(k-1)/term(k) = k / (n - k + 1) * p / q.
    s, term, k = 1.0, 1.0, t
    while k > 0:
        term *= k / (n - k + 1) * p / q
        s += term
        k -= 1
        if term < s * 1e-18:
            break
    return float(mpmath.exp(lt) * s)


class Probe:
    def __init__(self, path):
        self.p = subprocess.Popen([path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()


def near(v):
    return abs(v - (1 - C)) <= 1e-9 * (1 - C)


def main():
    probe = Probe(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    cases = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    rng = random.Random(seed)
    bad = skipped = checked = 0

    # The incomplete beta itself at random points against the binomial
    # sum (integer a, b: I_x(a, b) = P(Bin(a+b-1, 1-x) <= b-1)).
    for _ in range(cases):
        a = int(10 ** rng.uniform(0, 8))
        b = int(10 ** rng.uniform(0, max(0.0, math.log10(a) - 1))) + 1
        x = rng.choice([0.9, 0.95, 0.99, 0.999, rng.uniform(0.5, 0.9999)])
        want = odds(x, a, b - 1)
        got = float(probe.ask("b %d %d %.17g" % (a, b, x)))
        if want > 1e-250 and abs(got - want) > 1e-8 * want + 1e-300:
            print("betainc(%d, %d, %r): got %r, want %r" % (a, b, x, got,
                                                            want))
            bad += 1
        checked += 1

    for _ in range(cases):
        n = int(10 ** rng.uniform(2, 8))
        p = rng.choice([0.9, 0.95, 0.99, 0.999, rng.uniform(0.5, 0.999)])
        r = probe.ask("d %d %.17g" % (n, p))
        mq = int(probe.ask("m %.17g 1" % p)) + 1
        if r == "none":
            if n >= mq:
                print("n %d p %r: no estimate but n >= min_queries %d"
                      % (n, p, mq))
                bad += 1
            checked += 1
            continue
        t = int(r)
        for tt in (t, t + 1):
            h = int(probe.ask("m %.17g %d" % (p, tt)))
            o1, o0 = odds(p, h, tt), odds(p, h - 1, tt) if h > 1 else 1.0
            if near(o1) or near(o0):
                skipped += 1
                continue
            if not (o1 < 1 - C and o0 >= 1 - C):
                print("min_passing(p=%r, t=%d) = %d: odds %r, at h-1 %r"
                      % (p, tt, h, o1, o0))
                bad += 1
            fit = h + tt <= n
            if fit != (tt == t):
                print("n %d p %r: t %d, but t=%d gives min_passing %d"
                      % (n, p, t, tt, h))
                bad += 1
            checked += 1
    print("estop_check: %d checked, %d skipped near the boundary, %d bad"
          % (checked, skipped, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
