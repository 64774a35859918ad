/*
 * The suite's one table of exit statuses.  Every tool uses these names and
 * every man page documents them; the values follow sysexits(3) and the
 * statuses util-linux flock(1) uses, so scripts written for flock keep
 * working.
 */
#ifndef LOCKKIT_EXITCODE_H
#define LOCKKIT_EXITCODE_H

enum {
	LK_EXIT_OK = 0,
	LK_EXIT_CONFLICT = 1,		/* lock held elsewhere, or timed out */
	LK_EXIT_USAGE = 64,		/* bad option, operand or value */
	LK_EXIT_LOCKFAIL = 65,		/* the lock call itself failed */
	LK_EXIT_NOINPUT = 66,		/* cannot open the lock file */
	LK_EXIT_UNAVAILABLE = 69,	/* the command cannot be run */
	LK_EXIT_OSERR = 71,		/* fork, memory, descriptors, other OS failure */
	LK_EXIT_CANTCREAT = 73,		/* read-only file system, no space */
	LK_EXIT_TEMPFAIL = 75,		/* lock lost, or lock service unavailable */
	LK_EXIT_SIGBASE = 128		/* command killed by signal N: 128 + N */
};

/* Status for a failed open(2) of a lock file, by errno. */
int	exit_for_open(int);
/* Status for a failed lock call (flock, fcntl) other than a conflict. */
int	exit_for_lock(int);
/* Status for a failed exec of the command. */
int	exit_for_exec(int);
/* A wait(2) status turned into ours: the command's code, or 128 + signal. */
int	exit_for_wait(int);
/*
 * The liblockdev 1.0.4 helper's statuses (lockdev(1) keeps them so it can
 * replace that helper): 2 EACCES ... 12 EPERM, 255 anything else.
 */
int	exit_for_lockdev(int);

#endif
