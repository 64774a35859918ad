/*
 * Paired timing for make bench:
 *
 *   pair N command-a ... -- command-b ...
 *
 * runs the two commands N times each, one straight after the other, A
 * then B in one pair and B then A in the next, and prints one line:
 *
 *   RATIO LO HI A-MS B-MS
 *
 * RATIO is the median over the N pairs of A's wall time divided by B's,
 * LO and HI a 95% confidence interval for that median, A-MS and B-MS the
 * median wall time of each in milliseconds.
 *
 * Why pairs: this machine's speed drifts by several per cent within a
 * minute, as much as the differences the targets are about.  Two runs
 * milliseconds apart see the same machine, so the drift leaves each
 * pair's ratio alone; hyperfine runs one command's batch after the
 * other's, and the drift between batches goes into their ratio.
 *
 * The interval needs no assumption about how the ratios are spread: the
 * median of the distribution the N ratios are drawn from lies between the
 * ratios ranked N/2 - 0.98 sqrt(N) and N/2 + 0.98 sqrt(N) with about 95%
 * confidence (the count of ratios below it is binomial, here taken as
 * normal).
 *
 * Ten pairs run first, untimed, as warm-ups.  Each command runs as
 * hyperfine -N runs one: no shell, started by
 * posix_spawnp(3) with the PATH search, its output to /dev/null; the
 * clock runs from just before the spawn to just after the wait.  A
 * command that fails stops the measurement (exit 1): its time would not
 * be the time of the work measured.
 */
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WARMUPS	10

extern char **environ;

static posix_spawn_file_actions_t quiet;

static double
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		err(1, "clock_gettime");
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One run of argv, its wall time in ms. */
static double
timed(char **argv)
{
	double t0, t1;
	pid_t pid;
	int e, status;

	t0 = now_ms();
	if ((e = posix_spawnp(&pid, argv[0], &quiet, NULL, argv,
	    environ)) != 0)
		errc(1, e, "cannot run '%s'", argv[0]);
	if (waitpid(pid, &status, 0) == -1)
		err(1, "waitpid");
	t1 = now_ms();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "'%s' failed (wait status %#x)", argv[0], status);
	return t1 - t0;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n), sorting v. */
static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return (v[(n - 1) / 2] + v[n / 2]) / 2;
}

int
main(int argc, char *argv[])
{
	char **a, **b;
	double *ta, *tb, *r, ratio, mid, half;
	const char *errstr;
	size_t n, i, lo, hi;
	int sep;

	if (argc < 5)
		errx(2, "usage: pair N command ... -- command ...");
	n = (size_t)strtonum(argv[1], 1, 1000000, &errstr);
	if (errstr != NULL)
		errx(2, "invalid count '%s': %s", argv[1], errstr);
	for (sep = 2; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		continue;
	if (sep == 2 || sep >= argc - 1)
		errx(2, "usage: pair N command ... -- command ...");
	argv[sep] = NULL;
	a = argv + 2;
	b = argv + sep + 1;

	if (posix_spawn_file_actions_init(&quiet) != 0 ||
	    posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO,
	    "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&quiet, STDOUT_FILENO,
	    STDERR_FILENO) != 0)
		errx(1, "cannot set up the commands' output");
	if ((ta = calloc(n, sizeof(*ta))) == NULL ||
	    (tb = calloc(n, sizeof(*tb))) == NULL ||
	    (r = calloc(n, sizeof(*r))) == NULL)
		err(1, NULL);

	for (i = 0; i < WARMUPS; i++) {
		timed(a);
		timed(b);
	}
	for (i = 0; i < n; i++) {
		/* Neither gains from going first: the order alternates. */
		if (i % 2 == 0) {
			ta[i] = timed(a);
			tb[i] = timed(b);
		} else {
			tb[i] = timed(b);
			ta[i] = timed(a);
		}
		r[i] = ta[i] / tb[i];
	}

	ratio = median(r, n);	/* sorts r, for the interval's ranks */
	mid = (double)n / 2;
	half = 0.98 * sqrt((double)n);
	lo = mid > half ? (size_t)floor(mid - half) : 0;
	hi = (size_t)ceil(mid + half);
	if (hi > n - 1)
		hi = n - 1;
	printf("%.4f %.4f %.4f %.3f %.3f\n", ratio, r[lo], r[hi],
	    median(ta, n), median(tb, n));
	return fflush(stdout) == 0 ? 0 : 1;
}
