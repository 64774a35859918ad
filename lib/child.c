#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
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

int
child_run(char *const argv[], const int *closefds, size_t nclose,
    void (*started)(pid_t, void *), void *arg)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct sigaction sa;
	sigset_t block, old, waitmask, dflt;
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

	/*
	 * posix_spawn (clone with CLONE_VFORK in glibc) saves copying our
	 * page tables on every run.  The child starts with the caller's
	 * mask and default actions for what we handle, so a signal that
	 * arrives before its exec acts on it as it would after.
	 */
	posix_spawn_file_actions_init(&fa);
	for (i = 0; i < nclose; i++)
		posix_spawn_file_actions_addclose(&fa, closefds[i]);
	posix_spawnattr_init(&attr);
	dflt = block;
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setsigmask(&attr, &old);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF |
	    POSIX_SPAWN_SETSIGMASK);
	e = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		errno = e;
		warn("cannot run %s", argv[0]);
		return exit_for_exec(e);
	}
	if (started != NULL)
		started(pid, arg);

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
