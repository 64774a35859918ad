/* A few lines of TAP for the C unit tests: ok/not ok per check. */
#ifndef LOCKKIT_TAP_H
#define LOCKKIT_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define CHECK(cond, name) do {						\
	tap_n++;							\
	if (cond)							\
		printf("ok %d %s\n", tap_n, name);			\
	else {								\
		printf("not ok %d %s (%s:%d)\n", tap_n, name,		\
		    __FILE__, __LINE__);				\
		tap_failed++;						\
	}								\
} while (0)

#define TAP_DONE() (printf("1..%d\n", tap_n), tap_failed != 0)

#endif
