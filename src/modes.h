/* Entry points of the metricsd modes; main.c dispatches to them. */
#ifndef METRICSD_MODES_H
#define METRICSD_MODES_H

/* Exit codes every mode shares (documented in metricsd(1)). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	/* runtime failure */
	EXIT_USAGE = 2	/* bad command line or configuration */
};

int read_main(int argc, char **argv);
int launch_main(int argc, char **argv);
int ready_main(int argc, char **argv);
int aggregate_main(int argc, char **argv);
int publish_main(int argc, char **argv);
int serve_main(int argc, char **argv);
int tokenize_main(int argc, char **argv);

#endif
