/*
 * libFuzzer harness for the recording reader (rec_read.c): any bytes as a
 * recording file. The reader must never crash, never allocate for a
 * length the file does not hold, and its frames must tile the file: each
 * starts where the last ended, and at the end either the file is used up
 * or the cut is reported.
 *
 * Build and run: make fuzz FUZZ_SECONDS=600
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_reader *r;
	struct rec_frame f;
	char path[64], err[REC_ERR_MAX];
	uint64_t next = 0;
	int fd, rc;

	if ((fd = memfd_create("rec", MFD_CLOEXEC)) < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (rec_reader_open(&r, path, err, sizeof(err)) < 0) {
		close(fd);
		return 0;
	}
	while ((rc = rec_reader_next(r, &f, err, sizeof(err))) == 1) {
		if (next && f.offset != next)
			abort();	/* frames must tile the file */
		next = f.offset + 12 + f.len;
		if (next > size)
			abort();
		if (f.len && memcmp(f.data, data + f.offset + 12, f.len) != 0)
			abort();
	}
	if (rc == 0 && !rec_reader_truncated(r, NULL, 0) && next &&
	    next != size)
		abort();	/* a clean end uses the whole file */
	rec_reader_close(r);
	close(fd);
	return 0;
}
