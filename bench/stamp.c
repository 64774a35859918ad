/*
 * Benchmark helper: write CLOCK_MONOTONIC in nanoseconds to FILE and exit
 * (stamp FILE), or write it and then exec a command (stamp -x FILE
 * COMMAND...).  Used as the holder's last act and the waiter's first, to
 * time a lock hand-off, and with -x to time an exec alone.  Built static,
 * so its own start-up is as small as this machine allows.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct timespec ts;
	FILE *fp;
	int x = argc >= 4 && strcmp(argv[1], "-x") == 0;

	if (argc != 2 && !x)
		errx(64, "usage: stamp file | stamp -x file command ...");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((fp = fopen(argv[1 + x], "w")) == NULL)
		err(66, "%s", argv[1 + x]);
	fprintf(fp, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if (fclose(fp) != 0)
		err(71, "%s", argv[1 + x]);
	if (x) {
		execv(argv[3], argv + 3);
		err(69, "%s", argv[3]);
	}
	return 0;
}
