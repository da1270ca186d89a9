/* MLPerf LoadGen's early-stopping estimate (see estop.h). */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "estop.h"

/*
 * lgamma(z) - Stirling's leading terms, (z - 1/2) ln z - z + ln(2 pi)/2,
 * for z >= 10: the asymptotic series, accurate to double precision there.
 */
static double
stirling_rest(double z)
{
	double z2 = z * z;

	return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 -
	    1.0 / (1680.0 * z2)) / z2) / z2) / z;
}

/*
 * ln(x^a (1-x)^b / B(a, b)). With a, b >= 10 this is written so that
 * the big terms cancel exactly before rounding:
 *   a ln(x (a+b) / a) + b ln((1-x) (a+b) / b) + ln(ab / (a+b)) / 2
 *   - ln(2 pi) / 2 - rest(a) - rest(b) + rest(a+b),
 * where the logarithms of numbers near 1 go through log1p.
 */
static double
log_prefactor(double a, double b, double x)
{
	if (a < 10.0 || b < 10.0)
		return a * log(x) + b * log1p(-x) - lgamma(a) - lgamma(b) +
		    lgamma(a + b);
	double s = a + b;
	double u = (x * s - a) / a;		/* x s / a - 1 */
	double v = ((1.0 - x) * s - b) / b;	/* (1-x) s / b - 1 */
	return a * log1p(u) + b * log1p(v) + 0.5 * log(a * b / s) -
	    0.5 * log(2.0 * M_PI) - stirling_rest(a) - stirling_rest(b) +
	    stirling_rest(s);
}

/*
 * The continued fraction of I_x(a, b) (x < (a+1)/(a+b+2) for fast
 * convergence), evaluated with the modified Lentz method:
 *   1 / (1 + d1 / (1 + d2 / (1 + ...))),
 *   d_{2m+1} = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)),
 *   d_{2m}   =  m (b-m) x / ((a+2m-1)(a+2m)).
 */
static double
betainc_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double f, c, d, num;
	/* Converges in O(sqrt(max(a, b))) terms; generous bound. */
	double limit = 1000.0 + 20.0 * sqrt(a > b ? a : b);

	f = 1.0;
	c = 1.0;
	d = 0.0;
	for (double m = 0.0; m <= limit; m += 1.0) {
		/* odd term d_{2m+1} */
		num = -(a + m) * (a + b + m) * x / ((a + 2 * m) *
		    (a + 2 * m + 1));
		d = 1.0 + num * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + num / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		f *= c * d;
		/* even term d_{2m+2} */
		double k = m + 1.0;
		num = k * (b - k) * x / ((a + 2 * k - 1) * (a + 2 * k));
		d = 1.0 + num * d;
		if (fabs(d) < tiny)
			d = tiny;
		c = 1.0 + num / c;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1.0 / d;
		double delta = c * d;
		f *= delta;
		if (fabs(delta - 1.0) < 4 * DBL_EPSILON)
			break;
	}
	/* The fraction above is 1 + d1/(1 + ...) inverted: f holds it. */
	return 1.0 / f;
}

double
estop_betainc(double a, double b, double x)
{
	if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0) || !(x <= 1.0) ||
	    isinf(a) || isinf(b))
		return NAN;
	if (x == 0.0)
		return 0.0;
	if (x == 1.0)
		return 1.0;
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(log_prefactor(a, b, x)) * betainc_cf(a, b, x) / a;
	return 1.0 - exp(log_prefactor(b, a, 1.0 - x)) *
	    betainc_cf(b, a, 1.0 - x) / b;
}

static bool
passes(double p, uint64_t h, uint64_t t, double c, double d)
{
	return estop_betainc((double)h, (double)t + 1.0, p - d) < 1.0 - c;
}

uint64_t
estop_min_passing(double p, uint64_t t, double c, double d)
{
	uint64_t lo = 0, hi = 1;	/* lo fails (or is 0), hi to test */

	if (!(p > 0.0 && p < 1.0) || !(c > 0.0 && c < 1.0) ||
	    !(d >= 0.0 && d < p))
		return 0;
	while (!passes(p, hi, t, c, d)) {
		lo = hi;
		if (hi > (UINT64_C(1) << 61))
			return 0;
		hi *= 2;
	}
	/* odds(lo) >= 1 - c (or lo == 0), odds(hi) < 1 - c. */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (passes(p, mid, t, c, d))
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

uint64_t
estop_min_queries(double p)
{
	uint64_t h = estop_min_passing(p, 1, ESTOP_CONFIDENCE,
	    ESTOP_TOLERANCE);

	return h ? h + 1 : 0;
}

/* Does t fit in n values: min_passing(t) + t <= n? */
static bool
fits(uint64_t n, double p, uint64_t t)
{
	uint64_t h;

	if (t > n)
		return false;
	h = estop_min_passing(p, t, ESTOP_CONFIDENCE, ESTOP_TOLERANCE);
	return h != 0 && h <= n - t;
}

bool
estop_discards(uint64_t n, double p, uint64_t *t)
{
	uint64_t lo = 1, hi = 2;	/* lo fits, hi to test */

	if (!fits(n, p, 1))
		return false;
	while (fits(n, p, hi)) {
		lo = hi;
		hi *= 2;
	}
	/* fits(lo), !fits(hi) */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (fits(n, p, mid))
			lo = mid;
		else
			hi = mid;
	}
	*t = lo;
	return true;
}
