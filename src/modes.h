/* Entry points of the metricsd modes; main.c dispatches to them. */
#ifndef METRICSD_MODES_H
#define METRICSD_MODES_H

/* Exit codes every mode shares (documented in metricsd(1)). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	/* runtime failure */
	EXIT_USAGE = 2,	/* bad command line or configuration */
	EXIT_INCOMPLETE = 3	/* aggregate: the run ended, but values were
				 * dropped (the store is marked incomplete) */
};

/* NAME_main() of every mode in modes.def. */
#define MODE(name, usage) int name##_main(int argc, char **argv);
#include "modes.def"
#undef MODE

#endif
