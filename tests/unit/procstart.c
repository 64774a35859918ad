/* Unit tests for lib/procstart.c: the owner-age rule, and reading /proc. */
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procstart.h"
#include "tap.h"

#define S	1000000000LL	/* a second in nanoseconds */

static void *
idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* /proc says Z for pid (within 2 s): its leader has exited. */
static int
proc_says_zombie(pid_t pid)
{
	char path[64], buf[512], *p;
	struct timespec ms = { 0, 1000000 };
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < 2000; i++, nanosleep(&ms, NULL)) {
		if ((f = fopen(path, "r")) == NULL)
			return 0;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p != NULL && (p = strrchr(buf, ')')) != NULL &&
		    p[1] == ' ' && p[2] == 'Z')
			return 1;
	}
	return 0;
}

/*
 * A child whose main thread exits, leaving another running (lead), or
 * one that exits outright; -1 on failure.
 */
static pid_t
child(int lead)
{
	pthread_t t;
	pid_t pid;

	if ((pid = fork()) != 0)
		return pid;
	if (lead && pthread_create(&t, NULL, idle, NULL) == 0)
		pthread_exit(NULL);
	_exit(0);
}

int
main(void)
{
	const int64_t boot = 1700000000 * S, slack = PROCSTART_SLACK * S;
	struct timespec bt;
	int64_t since, b;
	pid_t pid;
	char state;

	/* A process started 100 s after boot; its file written after. */
	CHECK(procstart_judge(boot + 101 * S, boot, 100 * S) ==
	    PROCSTART_MAY_OWN, "written after the owner started: may own");
	CHECK(procstart_judge(boot + 100 * S, boot, 100 * S) ==
	    PROCSTART_MAY_OWN, "written as it started: may own");
	CHECK(procstart_judge(boot + 100 * S - slack, boot, 100 * S) ==
	    PROCSTART_MAY_OWN, "written SLACK before it started: may own");
	CHECK(procstart_judge(boot + 100 * S - slack - 1, boot, 100 * S) ==
	    PROCSTART_NEWER, "written more than SLACK before: newer");
	CHECK(procstart_judge(boot + 100 * S - 3600 * S, boot, 100 * S) ==
	    PROCSTART_PREBOOT, "written an hour before boot: preboot");
	CHECK(procstart_judge(boot - slack, boot, -1) == PROCSTART_MAY_OWN,
	    "start unknown, written SLACK before boot: may own");
	CHECK(procstart_judge(boot - slack - 1, boot, -1) ==
	    PROCSTART_PREBOOT, "start unknown, written before boot: preboot");
	CHECK(procstart_judge(boot + 50 * S, boot, -1) == PROCSTART_MAY_OWN,
	    "start unknown, written since boot: may own");
	CHECK(procstart_judge(boot + 10 * S, boot, 0) == PROCSTART_MAY_OWN,
	    "an owner started at boot owns any file of this boot");
	CHECK(procstart_judge(boot + 86400 * S, boot, 3600 * S) ==
	    PROCSTART_MAY_OWN, "a lock held for a day: may own");

	CHECK(procstart_read(getpid(), &state, &since) == 0 &&
	    state == 'R', "our own state: running");
	CHECK(clock_gettime(CLOCK_BOOTTIME, &bt) == 0 && since >= 0 &&
	    since <= (int64_t)bt.tv_sec * S + bt.tv_nsec,
	    "our own start: since boot, not after now");
	CHECK(procstart_read(1, &state, NULL) == 0, "pid 1's state alone");
	errno = 0;
	CHECK(procstart_read(0x3fffff + 1, &state, &since) == -1 &&
	    errno == ENOENT, "no such process: ENOENT");
	CHECK((pid = child(0)) > 0 && proc_says_zombie(pid) &&
	    procstart_read(pid, &state, NULL) == 0 && state == 'Z' &&
	    procstart_read(pid, &state, &since) == 0 && state == 'Z',
	    "an exited, unreaped child: a zombie");
	if (pid > 0)
		waitpid(pid, NULL, 0);
	CHECK((pid = child(1)) > 0 && proc_says_zombie(pid) &&
	    procstart_read(pid, &state, NULL) == 0 && state == 'R' &&
	    procstart_read(pid, &state, &since) == 0 && state == 'R',
	    "a leader gone while a thread runs: not a zombie");
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	CHECK(procstart_boot(&b) == 0 && b > 0 &&
	    b <= (int64_t)time(NULL) * S, "boot: in the past");
	return TAP_DONE();
}
