/*
 * Running a command in a child process while the caller keeps something
 * (a lock) that must outlive it, with signals forwarded to the child.
 */
#ifndef LOCKKIT_CHILD_H
#define LOCKKIT_CHILD_H

#include <sys/types.h>

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/*
 * Start argv (searching PATH) in a child, with the nclose descriptors in
 * closefds closed there.  While the child runs, SIGHUP, SIGINT, SIGQUIT,
 * SIGTERM, SIGUSR1 and SIGUSR2 sent to the caller are passed on to it;
 * SIGINT and SIGQUIT typed at a terminal already reach the whole process
 * group and are not sent twice.  The command starts with the signals the
 * caller ignores ignored (they are still passed on).  Returns the child's
 * status as an exit status (exit_for_wait()); if the command cannot be
 * started, prints why and returns exit_for_exec().  If started is not
 * NULL it is called in the child, with its pid, before the command is
 * executed, with the forwarded signals blocked.  The child is a vfork()
 * child: started() runs in the caller's memory while the caller waits, so
 * it may read and write the caller's data and make system calls, but must
 * not allocate memory or use stdio other than unbuffered stderr.
 */
int	child_run(char *const argv[], const int *closefds, size_t nclose,
	    void (*started)(pid_t, void *), void *arg);

/*
 * What --max-time asks for: the commands child_run() and child_exec()
 * start from now on get SIGALRM dur after they start (an interval timer,
 * set just before the exec, which survives it), with SIGALRM's action the
 * default and the signal unblocked in them, whatever the caller had, so
 * that it ends them unless they catch it (status 142).  Every other
 * signal keeps the caller's mask and action.  dur NULL or zero: none, as
 * before any call.  Units: dur in seconds and nanoseconds, rounded down
 * to microseconds, at least one.
 */
void	child_alarm_after(const struct timespec *dur);

/* Exec argv in place; on failure print why and exit exit_for_exec(). */
void	child_exec(char *const argv[]) __attribute__((noreturn));

/*
 * Start argv in a child as child_run() does, for a caller that waits for
 * it itself: the child starts with signal mask *mask, and SIGCHLD's
 * action *chld if that ignores it (the caller has put its own, or the
 * default, so the child can be waited for); started() and
 * child_alarm_after() as in child_run().  If tied, the child is killed
 * (SIGKILL) when the calling thread, which must be the main thread, ends,
 * even by SIGKILL (PR_SET_PDEATHSIG; lost if argv[0] is set-id or has file
 * capabilities).  Returns the child's pid; exits LK_EXIT_OSERR if vfork
 * fails.
 */
pid_t	child_spawn(char *const argv[], const sigset_t *mask,
	    const struct sigaction *chld, void (*started)(pid_t, void *),
	    void *arg, bool tied);

#ifndef LOCKKIT_LIBEXECDIR
#define LOCKKIT_LIBEXECDIR	"/usr/local/libexec/lockkit"
#endif

/*
 * Exec the helper program prog from $LOCKKIT_LIBEXECDIR (for running
 * an uninstalled build; ignored when set-id) or LOCKKIT_LIBEXECDIR, with
 * argv; on failure print why and exit exit_for_exec().
 */
void	child_exec_helper(const char *prog, char *const argv[])
	    __attribute__((noreturn));

#endif
