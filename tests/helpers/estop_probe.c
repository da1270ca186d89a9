/*
 * Answers early-stopping questions on stdin, one per line, for
 * tests/integration/estop_check.py:
 *   "b A B X"  -> I_X(A, B)
 *   "m P T"    -> min_passing(T) at percentile P (c = 0.99, d = 0)
 *   "d N P"    -> the discard count t for N values, or "none"
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "estop.h"

int
main(void)
{
	char line[256];

	while (fgets(line, sizeof(line), stdin)) {
		double a, b, x;
		uint64_t n, t;

		if (sscanf(line, "b %lf %lf %lf", &a, &b, &x) == 3)
			printf("%.17g\n", estop_betainc(a, b, x));
		else if (sscanf(line, "m %lf %" SCNu64, &x, &t) == 2)
			printf("%" PRIu64 "\n", estop_min_passing(x, t,
			    ESTOP_CONFIDENCE, ESTOP_TOLERANCE));
		else if (sscanf(line, "d %" SCNu64 " %lf", &n, &x) == 2) {
			if (estop_discards(n, x, &t))
				printf("%" PRIu64 "\n", t);
			else
				printf("none\n");
		} else {
			fprintf(stderr, "estop_probe: bad line: %s", line);
			return 1;
		}
		fflush(stdout);
	}
	return 0;
}
