/*
 * MLPerf LoadGen's early-stopping estimate of a tail percentile
 * (shared/spec/report.md, "Early-stopping estimate"; metricsd(1),
 * "metricsd report").
 *
 * For n values and a target percentile p (a fraction, 0.9 for p90),
 * confidence c and tolerance d:
 *
 *   odds(h, t)      = I_{p-d}(h, t + 1), the regularized incomplete beta:
 *                     the chance of at most t values above the bound in
 *                     h + t trials;
 *   min_passing(t)  = the smallest h >= 1 with odds(h, t) < 1 - c;
 *   min_queries     = min_passing(1) + 1 (no estimate below it);
 *   t               = the largest t >= 1 with min_passing(t) + t <= n;
 *   the estimate    = sorted[n - t] (0-based, ascending): the t-th highest.
 *
 * min_passing is found by doubling then bisection on h (odds decreases in
 * h), and t by doubling then bisection too (min_passing(t) + t increases
 * in t): O(log^2 n) incomplete beta evaluations, each a continued
 * fraction (modified Lentz). The prefactor x^a (1-x)^b / B(a, b) is taken
 * in a form that stays accurate for a, b up to 1e8 and beyond (Stirling
 * differences with log1p instead of lgamma(a+b) - lgamma(a) - lgamma(b)).
 *
 * Pure functions: nothing here allocates, prints or exits.
 */
#ifndef METRICSD_ESTOP_H
#define METRICSD_ESTOP_H

#include <stdbool.h>
#include <stdint.h>

/* The defaults of the spec: confidence 0.99, tolerance 0. */
#define ESTOP_CONFIDENCE 0.99
#define ESTOP_TOLERANCE 0.0

/*
 * I_x(a, b) for a, b > 0 and x in [0, 1]; NaN for arguments outside.
 * Relative accuracy about 1e-12 for moderate a, b and better than 1e-9
 * for a, b up to 1e8.
 */
double estop_betainc(double a, double b, double x);

/*
 * min_passing(t) for percentile p in (0, 1), confidence c in (0, 1),
 * tolerance d in [0, p). 0 when no h up to 2^62 passes (never for sane
 * arguments).
 */
uint64_t estop_min_passing(double p, uint64_t t, double c, double d);

/* min_passing(1) + 1 with the default confidence and tolerance. */
uint64_t estop_min_queries(double p);

/*
 * The discard count for n values: true with *t set (t >= 1, so the
 * estimate is sorted[n - *t]), or false when n < min_queries (no
 * estimate). Default confidence and tolerance.
 */
bool estop_discards(uint64_t n, double p, uint64_t *t);

#endif
