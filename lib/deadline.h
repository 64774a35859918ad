/*
 * Deadlines on the monotonic clock, and an alarm that interrupts blocking
 * system calls (flock, fcntl F_SETLKW) which take no timeout of their own.
 */
#ifndef LOCKKIT_DEADLINE_H
#define LOCKKIT_DEADLINE_H

#include <stdbool.h>
#include <time.h>

struct deadline {
	bool		inf;	/* never expires */
	struct timespec	at;	/* CLOCK_MONOTONIC */
};

/* A deadline dur from now; dur NULL or dur->tv_sec < 0 means never. */
void	deadline_start(struct deadline *, const struct timespec *dur);
bool	deadline_passed(const struct deadline *);
/* Milliseconds left, rounded up, for poll(2): -1 if infinite, >= 0 else. */
int	deadline_poll_ms(const struct deadline *);
/* Seconds elapsed since the monotonic time start. */
double	elapsed_since(const struct timespec *start);

/*
 * Interrupt blocking calls once the deadline passes.  For a finite
 * deadline, deadline_alarm_arm() installs a SIGALRM handler without
 * SA_RESTART, unblocks SIGALRM if the caller had it blocked (as cron or
 * Python's subprocess may start us), and starts a POSIX timer that fires
 * at the deadline and every few milliseconds after it; with none (NULL or
 * infinite) it does nothing, and SIGALRM keeps its default.  A blocking call then fails with EINTR; the
 * caller checks deadline_passed() and retries when it is false, so a stray
 * SIGALRM sent from outside never ends a wait early.  The timer repeats so
 * that a tick landing between the caller's check and its blocking call
 * cannot turn into an endless wait: the next tick interrupts that call.
 * deadline_alarm_disarm() deletes the timer, discards a pending SIGALRM and
 * puts back the caller's mask and action (default, or ignored), if arm
 * changed them, so nothing reaches an exec'd command and it starts with
 * SIGALRM as the caller had it.
 * Returns 0, or -1 with errno set.
 */
int	deadline_alarm_arm(const struct deadline *);
void	deadline_alarm_disarm(void);

#endif
