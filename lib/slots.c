#include <sys/types.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "slots.h"

/* Only the slots used are set up: the whole array is 27 KiB. */
static void
slots_init(struct slots *s, int n)
{
	s->plain = n == 0;
	s->n = n == 0 ? 1 : n;
	s->taken = -1;
	s->name[0] = '\0';
}

int
slots_tcp(struct slots *s, const char *addr, uid_t uid, int port, int n,
    const char **errstr)
{
	int i;

	slots_init(s, n);
	if (port + s->n - 1 > 65535) {
		*errstr = "runs past port 65535";
		return -1;
	}
	for (i = 0; i < s->n; i++)
		if (socklock_tcp(&s->sl[i], addr, uid, port + i, errstr) == -1)
			return -1;
	return 0;
}

int
slots_unix(struct slots *s, uid_t uid, const char *name, int n,
    const char **errstr)
{
	char slot[128];
	int i;

	slots_init(s, n);
	if (socklock_unix(&s->sl[0], uid, name, errstr) == -1)
		return -1;
	if (s->plain)
		return 0;
	for (i = 0; i < s->n; i++) {
		snprintf(slot, sizeof(slot), "%s/%d", name, i);
		if (socklock_unix(&s->sl[i], uid, slot, errstr) == -1) {
			*errstr = "too long with its slot number";
			return -1;
		}
	}
	return 0;
}

const char *
slots_name(struct slots *s)
{
	const char *first = socklock_name(&s->sl[0]);
	const char *last, *p;
	int e = errno;

	if (s->plain)
		return first;
	if (s->name[0] == '\0') {
		/* "...:5003" or ".../3": what follows the last ':' or '/'. */
		last = socklock_name(&s->sl[s->n - 1]);
		p = strrchr(last, s->sl[0].sa.ss_family == AF_UNIX ? '/' : ':');
		snprintf(s->name, sizeof(s->name), "%s-%s", first, p + 1);
	}
	errno = e;
	return s->name;
}

int
slots_try(struct slots *s)
{
	int i, r;

	for (i = 0; i < s->n; i++)
		if ((r = socklock_try(&s->sl[i])) != 1) {
			if (r == 0)
				s->taken = i;
			return r;
		}
	return 1;
}

/* The ppoll(2) timeout: us microseconds, or the deadline if sooner. */
static struct timespec *
timeout(struct timespec *ts, long us, const struct deadline *d)
{
	int ms = deadline_poll_ms(d);

	if (us < 0 && ms < 0)
		return NULL;
	if (us < 0 || (ms >= 0 && (long)ms * 1000 < us))
		us = (long)ms * 1000;
	ts->tv_sec = us / 1000000;
	ts->tv_nsec = (us % 1000000) * 1000;
	return ts;
}

int
slots_wait(struct slots *s, const struct deadline *d)
{
	struct pollfd pfd[SLOTS_MAX];
	struct timespec ts;
	long backoff_us = 0, served_us = 0;
	bool again, served;
	int i, k, r, e;

	if (s->n == 1) {
		if ((r = socklock_wait(&s->sl[0], d)) == 0)
			s->taken = 0;
		return r;
	}
	for (i = 0; i < SLOTS_MAX; i++) {
		pfd[i].fd = -1;
		pfd[i].events = POLLIN | POLLRDHUP;
	}
	for (;;) {
		/*
		 * A slot is watched only after a bind to it failed.  If its
		 * holder goes between that bind and the connect, the connect
		 * is refused and the slot tried again at once; if it goes
		 * later, the kernel resets the connection and poll wakes:
		 * either way no release goes unseen.  A slot still watched
		 * has a holder, and is not tried again.
		 */
		again = false;
		for (i = 0; i < s->n; i++) {
			if (pfd[i].fd != -1)
				continue;
			if ((r = socklock_try(&s->sl[i])) != 1)
				goto out;
			if ((r = socklock_watch(&s->sl[i], &pfd[i].fd)) == -1)
				goto out;
			again = again || r == 1;
		}
		if (deadline_passed(d)) {
			r = 1;
			goto out;
		}
		/*
		 * A slot with nobody to watch is bound but not listening,
		 * most often by a holder still closing after it woke us:
		 * try it again at once, then after 10 us, doubling up to a
		 * second, as socklock_wait() does.
		 */
		if (!again)
			backoff_us = 0;
		r = ppoll(pfd, (nfds_t)s->n, timeout(&ts, again ? backoff_us :
		    -1, d), NULL);
		if (again)
			backoff_us = backoff_us == 0 ? 10 :
			    backoff_us >= 500000 ? 1000000 : backoff_us * 2;
		if (r == -1 && errno != EINTR)
			goto out;
		served = false;
		for (k = 0; k < s->n; k++)
			if (pfd[k].fd != -1 && pfd[k].revents != 0) {
				served = served ||
				    !socklock_was_reset(pfd[k].fd);
				close(pfd[k].fd);
				pfd[k].fd = -1;
			}
		if (!served) {
			served_us = 0;
			continue;
		}
		/*
		 * A slot's holder accepted our connection and closed it: a
		 * server, not a solo, which would wake us again as soon as
		 * we watch it again.  Watch only the other slots first, for
		 * no time, then 10 us doubling up to 20 ms.
		 */
		r = ppoll(pfd, (nfds_t)s->n, timeout(&ts, served_us, d), NULL);
		served_us = served_us == 0 ? 10 : served_us >= 10000 ? 20000 :
		    served_us * 2;
		if (r == -1 && errno != EINTR)
			goto out;
	}
out:
	e = errno;
	if (r == 0)
		s->taken = i;
	for (k = 0; k < s->n; k++)
		if (pfd[k].fd != -1)
			close(pfd[k].fd);
	errno = e;
	return r;
}
