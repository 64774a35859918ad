/*
 * Benchmark helper: write CLOCK_MONOTONIC in nanoseconds to the file
 * argv[1] and exit.  Used as the holder's last act and the waiter's
 * first, to time a lock hand-off.
 */
#include <err.h>
#include <stdio.h>
#include <time.h>

int
main(int argc, char *argv[])
{
	struct timespec ts;
	FILE *fp;

	if (argc != 2)
		errx(64, "usage: stamp file");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((fp = fopen(argv[1], "w")) == NULL)
		err(66, "%s", argv[1]);
	fprintf(fp, "%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	return fclose(fp) == 0 ? 0 : 71;
}
