/*
 * libFuzzer target: the lock-file owner parser, on any bytes a lock file
 * may hold.  Checks its contract, and that what we write reads back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lckfile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[32];
	pid_t pid;
	int n;

	if (size > LCKFILE_READ_MAX)
		size = LCKFILE_READ_MAX;	/* all lockdev ever reads */
	pid = lckfile_parse(data, size);
	if (pid < -1 || (size == 0 && pid != 0))
		abort();
	if (pid > 0) {
		n = lckfile_format(buf, pid);
		if (n != 11 || lckfile_parse((const unsigned char *)buf,
		    (size_t)n) != pid)
			abort();
	}
	return 0;
}
