#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "deadline.h"

#define NSEC	1000000000L
#define ALARM_REPEAT_NS	(5 * 1000000L)	/* tick after the deadline */

static timer_t	alarm_timer;
static bool	alarm_timer_set;
static bool	alarm_handled;	/* on_alarm() installed */
static struct sigaction alarm_was;	/* the caller's: default or ignored */
static bool	alarm_unblocked;	/* the caller had SIGALRM blocked */

void
deadline_start(struct deadline *d, const struct timespec *dur)
{
	/* No deadline reads no clock: the common case starts faster. */
	if ((d->inf = dur == NULL || dur->tv_sec < 0))
		return;
	clock_gettime(CLOCK_MONOTONIC, &d->at);
	d->at.tv_sec += dur->tv_sec;
	d->at.tv_nsec += dur->tv_nsec;
	if (d->at.tv_nsec >= NSEC) {
		d->at.tv_sec++;
		d->at.tv_nsec -= NSEC;
	}
}

static long long
ns_left(const struct deadline *d)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(d->at.tv_sec - now.tv_sec) * NSEC +
	    (d->at.tv_nsec - now.tv_nsec);
}

bool
deadline_passed(const struct deadline *d)
{
	return !d->inf && ns_left(d) <= 0;
}

int
deadline_poll_ms(const struct deadline *d)
{
	long long ns;

	if (d->inf)
		return -1;
	ns = ns_left(d);
	if (ns <= 0)
		return 0;
	if (ns / 1000000 >= INT_MAX)
		return INT_MAX;
	return (int)((ns + 999999) / 1000000);
}

double
elapsed_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) +
	    (double)(now.tv_nsec - start->tv_nsec) / NSEC;
}

static void
on_alarm(int sig)
{
	(void)sig;	/* only here to interrupt the blocking call */
}

int
deadline_alarm_arm(const struct deadline *d)
{
	struct sigaction sa;
	struct sigevent sev;
	struct itimerspec its;
	sigset_t alrm, was;

	/* No deadline, no alarm: SIGALRM keeps its default, as for flock(1). */
	if (d == NULL || d->inf)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the wait must see EINTR */
	if (sigaction(SIGALRM, &sa, &alarm_was) == -1)
		return -1;
	alarm_handled = true;
	/*
	 * Cron, Python's subprocess and CI runners may start us with SIGALRM
	 * blocked: the timer's signal would then stay pending and the wait
	 * never end.  Unblock it for the wait (the handler is in first, so a
	 * SIGALRM already pending only interrupts); disarm blocks it again.
	 */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	if (sigprocmask(SIG_UNBLOCK, &alrm, &was) == -1)
		return -1;
	alarm_unblocked = sigismember(&was, SIGALRM) == 1;

	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGALRM;
	if (timer_create(CLOCK_MONOTONIC, &sev, &alarm_timer) == -1)
		return -1;
	alarm_timer_set = true;
	memset(&its, 0, sizeof(its));
	its.it_value = d->at;
	its.it_interval.tv_nsec = ALARM_REPEAT_NS;
	/* An absolute time already past fires at once, which is what we want. */
	return timer_settime(alarm_timer, TIMER_ABSTIME, &its, NULL);
}

void
deadline_alarm_disarm(void)
{
	struct sigaction sa;
	sigset_t alrm;

	if (alarm_timer_set) {
		timer_delete(alarm_timer);
		alarm_timer_set = false;
	}
	if (!alarm_handled)
		return;
	alarm_handled = false;
	/*
	 * Setting SIG_IGN discards a pending SIGALRM (POSIX); then the
	 * caller's mask and action again, so that one who blocked or ignored
	 * SIGALRM still does in the command.
	 */
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGALRM, &sa, NULL);
	if (alarm_unblocked) {
		sigemptyset(&alrm);
		sigaddset(&alrm, SIGALRM);
		sigprocmask(SIG_BLOCK, &alrm, NULL);
		alarm_unblocked = false;
	}
	if (alarm_was.sa_handler != SIG_IGN)
		sigaction(SIGALRM, &alarm_was, NULL);
}
