#include <stdio.h>
#include <stdlib.h>

#include "exitcode.h"
#include "version.h"

void
print_version(void)
{
	printf("%s (lockkit) %s\n", getprogname(), LOCKKIT_VERSION);
	exit(fflush(stdout) == 0 ? LK_EXIT_OK : LK_EXIT_OSERR);
}
