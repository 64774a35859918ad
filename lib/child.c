#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "exitcode.h"

static const int forwarded[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2
};
#define NFORWARDED	(sizeof(forwarded) / sizeof(forwarded[0]))

static volatile sig_atomic_t pending[NFORWARDED];

static struct itimerval max_time;	/* child_alarm_after(); 0: none */

static void
on_forwarded(int sig, siginfo_t *si, void *ctx)
{
	size_t i;

	(void)ctx;
	/*
	 * A terminal's ^C or ^\ (si_code SI_KERNEL) goes to the whole
	 * foreground process group, the child included: don't double it.
	 */
	if ((sig == SIGINT || sig == SIGQUIT) && si->si_code == SI_KERNEL)
		return;
	for (i = 0; i < NFORWARDED; i++)
		if (forwarded[i] == sig)
			pending[i] = 1;
}

static void
on_child(int sig)
{
	(void)sig;	/* only here to end sigsuspend() */
}

void
child_alarm_after(const struct timespec *dur)
{
	memset(&max_time, 0, sizeof(max_time));
	if (dur == NULL || (dur->tv_sec <= 0 && dur->tv_nsec <= 0))
		return;
	max_time.it_value.tv_sec = dur->tv_sec;
	max_time.it_value.tv_usec = dur->tv_nsec / 1000;
	if (max_time.it_value.tv_sec == 0 && max_time.it_value.tv_usec == 0)
		max_time.it_value.tv_usec = 1;
}

/*
 * Exec argv; if that fails, say why and return the exit status for it.
 * With a max time, SIGALRM is first made able to end the command: its
 * default action, unblocked, as the option asks for whatever the caller
 * had (a caller that blocked or ignored it would otherwise switch the
 * option off).  Safe in a vfork child: it only calls what that child
 * already may.  No max time, no system call but the exec.
 */
static int
run(char *const argv[])
{
	struct sigaction sa;
	sigset_t alrm;
	int e;

	if (max_time.it_value.tv_sec != 0 || max_time.it_value.tv_usec != 0) {
		memset(&sa, 0, sizeof(sa));
		sigemptyset(&sa.sa_mask);
		sa.sa_handler = SIG_DFL;
		sigemptyset(&alrm);
		sigaddset(&alrm, SIGALRM);
		if (sigaction(SIGALRM, &sa, NULL) == -1 ||
		    sigprocmask(SIG_UNBLOCK, &alrm, NULL) == -1 ||
		    setitimer(ITIMER_REAL, &max_time, NULL) == -1) {
			warn("cannot set the command's timer");
			return LK_EXIT_OSERR;
		}
	}
	execvp(argv[0], argv);
	e = errno;	/* warn() may change it */
	warn("cannot run %s", *argv[0] != '\0' ? argv[0] : "''");
	return exit_for_exec(e);
}

void
child_exec(char *const argv[])
{
	exit(run(argv));
}

void
child_exec_helper(const char *prog, char *const argv[])
{
	const char *dir;
	char path[4096];

	/* secure_getenv: a set-id caller never takes the directory from us. */
	if ((dir = secure_getenv("LOCKKIT_LIBEXECDIR")) == NULL || *dir == '\0')
		dir = LOCKKIT_LIBEXECDIR;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, prog) >=
	    sizeof(path))
		errx(LK_EXIT_UNAVAILABLE, "%s/%s: path too long", dir, prog);
	execv(path, argv);
	err(exit_for_exec(errno), "cannot run %s", path);
}

/*
 * vfork, and run started() (if any) in the child, with its own pid,
 * before it execs: so the command never runs before, say, a lock is
 * handed to its pid.  The child borrows our memory and we sleep until it
 * execs or exits, so nothing races: started() must only not allocate (see
 * child.h), and nothing here returns from this frame in the child.
 * The child has the caller's signal dispositions, as we have not yet
 * installed our forwarding handlers (child_run does that once we are
 * back), save SIGCHLD's: chld is the caller's, which the child puts
 * back if it ignored the signal (our handler itself goes at the exec).
 * The forwarded signals stay blocked until the exec is near, so one that
 * arrives before the exec acts on the child as it would after.
 * This is the waiter's path from getting the lock to starting the
 * command, so it makes as few system calls as it can: with SIGCHLD not
 * ignored, none here but vfork, and in the child the sigprocmask and the
 * exec, besides what started(), the closes and a max time need.
 * vfork and not fork: copying the page tables and faulting every touched
 * page back costs a fork about as much as the rest of lockdev's run.
 * Nor posix_spawn, though glibc's is a vfork too: its child visits every
 * one of the 64 signals (115 system calls) and runs on a stack mapped for
 * it.
 */
static pid_t
start(char *const argv[], const int *closefds, size_t nclose,
    const sigset_t *mask, const struct sigaction *chld,
    void (*started)(pid_t, void *), void *arg, bool tied)
{
	pid_t pid, parent = getpid();
	size_t i;

	/*
	 * clang-tidy would have a vfork child only exec or _exit; this one
	 * does more, on purpose and within the limits above.
	 */
	/* NOLINTBEGIN(clang-analyzer-security.insecureAPI.vfork,clang-analyzer-unix.Vfork) */
	switch (pid = vfork()) {
	case -1:
		err(LK_EXIT_OSERR, "vfork");
	case 0:
		/*
		 * Tied: the command must not outlive us (not even our
		 * SIGKILL), as it would run on without the lock.  The kernel
		 * sends PDEATHSIG when the thread that forked us ends: this
		 * is the caller's main thread (vfork here, never from
		 * libcurl's resolver thread), which ends only with the
		 * process.  Had we died before the prctl, the child was
		 * already reparented: getppid() then differs, and it exits
		 * instead.  Kept across the exec, unless of a set-id or
		 * file-capability program.
		 */
		if (tied && (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent))
			_exit(LK_EXIT_OSERR);
		if (chld->sa_handler == SIG_IGN)
			sigaction(SIGCHLD, chld, NULL);
		if (started != NULL)
			started(getpid(), arg);
		sigprocmask(SIG_SETMASK, mask, NULL);
		for (i = 0; i < nclose; i++)
			close(closefds[i]);
		_exit(run(argv));
	}
	/* NOLINTEND(clang-analyzer-security.insecureAPI.vfork,clang-analyzer-unix.Vfork) */
	return pid;
}

pid_t
child_spawn(char *const argv[], const sigset_t *mask,
    const struct sigaction *chld, void (*started)(pid_t, void *), void *arg,
    bool tied)
{
	return start(argv, NULL, 0, mask, chld, started, arg, tied);
}

int
child_run(char *const argv[], const int *closefds, size_t nclose,
    void (*started)(pid_t, void *), void *arg)
{
	struct sigaction sa, was;
	sigset_t block, old, waitmask;
	pid_t pid, r;
	size_t i;
	int status;

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	for (i = 0; i < NFORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	/*
	 * Block everything we handle before spawning: a signal that comes
	 * before our handlers are in, or while the child starts, stays
	 * pending and is forwarded by the loop below, never lost.
	 */
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
		err(LK_EXIT_OSERR, "sigprocmask");

	/*
	 * SIGCHLD's handler goes in before the child exists: were the
	 * caller's SIGCHLD ignored, a child that exited before we changed
	 * it would be reaped by the kernel, and waitpid() would fail.
	 */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NOCLDSTOP;
	sa.sa_handler = on_child;
	if (sigaction(SIGCHLD, &sa, &was) == -1)
		err(LK_EXIT_OSERR, "sigaction");

	pid = start(argv, closefds, nclose, &old, &was, started, arg, false);

	/* The child has execed or exited: now the forwarding handlers. */
	sa.sa_sigaction = on_forwarded;
	sa.sa_flags = SA_SIGINFO;
	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);

	waitmask = old;
	sigdelset(&waitmask, SIGCHLD);
	for (i = 0; i < NFORWARDED; i++)
		sigdelset(&waitmask, forwarded[i]);
	for (;;) {
		for (i = 0; i < NFORWARDED; i++)
			if (pending[i]) {
				pending[i] = 0;
				kill(pid, forwarded[i]);
			}
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r == -1 && errno != EINTR)
			err(LK_EXIT_OSERR, "waitpid");
		/*
		 * Our signals are blocked everywhere but inside sigsuspend(),
		 * so one that arrives after the checks above is delivered
		 * here and wakes us: no lost wake-up.
		 */
		sigsuspend(&waitmask);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return exit_for_wait(status);
}
