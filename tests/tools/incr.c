/*
 * Test helper for the stress tests: the critical section.  Adds one to the
 * decimal counter in FILE, and proves nobody else is inside meanwhile:
 * FILE.inside is created with O_EXCL on entry and removed on exit, so a
 * second process inside at the same time fails to create it and exits 99.
 * A lost update would also show as a short count.
 */
#include <err.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	char inside[4096], buf[32];
	long n = 0;
	ssize_t r;
	int fd, in;

	if (argc != 2)
		errx(2, "usage: incr file");
	snprintf(inside, sizeof(inside), "%s.inside", argv[1]);
	if ((in = open(inside, O_WRONLY | O_CREAT | O_EXCL, 0644)) == -1)
		err(99, "%s: two processes inside the lock", inside);
	close(in);
	if ((fd = open(argv[1], O_RDWR | O_CREAT, 0644)) == -1)
		err(2, "%s", argv[1]);
	if ((r = pread(fd, buf, sizeof(buf) - 1, 0)) == -1)
		err(2, "%s", argv[1]);
	buf[r] = '\0';
	n = strtol(buf, NULL, 10);
	sched_yield();	/* widen the window a racing writer would need */
	r = snprintf(buf, sizeof(buf), "%ld\n", n + 1);
	if (pwrite(fd, buf, (size_t)r, 0) != r || close(fd) == -1)
		err(2, "%s", argv[1]);
	if (unlink(inside) == -1)
		err(2, "%s", inside);
	return 0;
}
