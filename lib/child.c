#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
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
child_exec(char *const argv[])
{
	int e;

	execvp(argv[0], argv);
	e = errno;
	warn("cannot run %s", argv[0]);
	exit(exit_for_exec(e));
}

/*
 * posix_spawn (clone with CLONE_VFORK in glibc) saves copying our page
 * tables on every run.  The child starts with the caller's mask and the
 * default actions for what we handle, so a signal that arrives before its
 * exec acts on it as it would after.  Returns the pid, or -1 with errno.
 */
static pid_t
spawn(char *const argv[], const int *closefds, size_t nclose,
    const sigset_t *handled, const sigset_t *mask)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid;
	size_t i;
	int e;

	posix_spawn_file_actions_init(&fa);
	for (i = 0; i < nclose; i++)
		posix_spawn_file_actions_addclose(&fa, closefds[i]);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, handled);
	posix_spawnattr_setsigmask(&attr, mask);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	e = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return pid;
}

/*
 * vfork, and run started() in the child, with its own pid, before it
 * execs: so the command never runs before, say, a lock is handed to its
 * pid.  The child borrows our memory and we sleep until it execs or
 * exits, so nothing races: started() must only not allocate (see
 * child.h), and nothing here returns from this frame in the child.  The
 * forwarded signals stay blocked until their default actions are back,
 * so none runs our handler in the child.  vfork and not fork: copying
 * the page tables and faulting every touched page back costs a fork
 * about as much as the rest of lockdev's run (BENCHMARKS.md).
 */
static pid_t
start_handed(char *const argv[], const int *closefds, size_t nclose,
    const sigset_t *mask, void (*started)(pid_t, void *), void *arg)
{
	struct sigaction dfl;
	pid_t pid;
	size_t i;

	memset(&dfl, 0, sizeof(dfl));
	sigemptyset(&dfl.sa_mask);
	dfl.sa_handler = SIG_DFL;
	/*
	 * clang-tidy would have a vfork child only exec or _exit; this one
	 * does more, on purpose and within the limits above.
	 */
	/* NOLINTBEGIN(clang-analyzer-security.insecureAPI.vfork,clang-analyzer-unix.Vfork) */
	switch (pid = vfork()) {
	case -1:
		err(LK_EXIT_OSERR, "vfork");
	case 0:
		for (i = 0; i < NFORWARDED; i++)
			sigaction(forwarded[i], &dfl, NULL);
		sigaction(SIGCHLD, &dfl, NULL);
		started(getpid(), arg);
		sigprocmask(SIG_SETMASK, mask, NULL);
		for (i = 0; i < nclose; i++)
			close(closefds[i]);
		execvp(argv[0], argv);
		warn("cannot run %s", argv[0]);
		_exit(exit_for_exec(errno));
	}
	/* NOLINTEND(clang-analyzer-security.insecureAPI.vfork,clang-analyzer-unix.Vfork) */
	return pid;
}

int
child_run(char *const argv[], const int *closefds, size_t nclose,
    void (*started)(pid_t, void *), void *arg)
{
	struct sigaction sa;
	sigset_t block, old, waitmask;
	pid_t pid, r;
	size_t i;
	int status, e;

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	for (i = 0; i < NFORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	/*
	 * Block everything we handle before spawning: a signal that comes
	 * while the child starts stays pending and is forwarded by the loop
	 * below, never lost.
	 */
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
		err(LK_EXIT_OSERR, "sigprocmask");

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_forwarded;
	sa.sa_flags = SA_SIGINFO;
	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &sa, NULL);
	sa.sa_flags = SA_NOCLDSTOP;
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);

	if (started != NULL)
		pid = start_handed(argv, closefds, nclose, &old, started, arg);
	else if ((pid = spawn(argv, closefds, nclose, &block, &old)) == -1) {
		e = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		warn("cannot run %s", argv[0]);
		return exit_for_exec(e);
	}

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
