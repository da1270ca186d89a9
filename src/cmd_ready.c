/* metricsd ready: placeholder until the mode lands. */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "modes.h"

int
ready_main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--help") == 0) {
		printf("usage: metricsd ready (not implemented yet)\n");
		return EXIT_OK;
	}
	log_warn("not implemented yet");
	return EXIT_FAIL;
}
