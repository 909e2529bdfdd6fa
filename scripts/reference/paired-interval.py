#!/usr/bin/env python3
"""Reference figures for src/stats/mcnemar.ts, computed independently of it: exact
rational arithmetic (fractions), no floating point until the end, standard library only.

Usage: python3 scripts/reference/paired-interval.py FIRST_ONLY SECOND_ONLY N [CONFIDENCE]

Prints McNemar's exact two-sided p-value (twice the smaller tail of Bin(d, 1/2), capped at
1) and the paired difference interval: Clopper-Pearson's exact interval for
theta = SECOND_ONLY / d (the theta where the binomial tail equals alpha / 2, by bisection on
exact tails to 2^-60), mapped to (2 theta - 1) d / N.
"""
import sys
from fractions import Fraction
from math import comb


def upper_tail(k, d, theta):
    """P(X >= k) for X ~ Bin(d, theta), exactly."""
    return sum(comb(d, i) * theta**i * (1 - theta) ** (d - i) for i in range(k, d + 1))


def lower_end(k, d, alpha):
    if k == 0:
        return Fraction(0)
    low, high = Fraction(0), Fraction(1)
    for _ in range(60):
        mid = (low + high) / 2
        if upper_tail(k, d, mid) < alpha / 2:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def main():
    first, second, n = (int(a) for a in sys.argv[1:4])
    confidence = Fraction(sys.argv[4]) if len(sys.argv) > 4 else Fraction(95, 100)
    alpha = 1 - confidence
    d = first + second
    smaller = min(first, second)
    p = min(Fraction(1), 2 * sum(Fraction(comb(d, i), 2**d) for i in range(smaller + 1)))
    estimate = Fraction(second - first, n)
    if d == 0:
        low = high = Fraction(0)
    else:
        theta_low = lower_end(second, d, alpha)
        theta_high = 1 - lower_end(first, d, alpha)
        low = (2 * theta_low - 1) * d / n
        high = (2 * theta_high - 1) * d / n
    print(f"p {float(p)!r}")
    print(f"estimate {float(estimate)!r} low {float(low)!r} high {float(high)!r}")


main()
