/*
 * Test helper, loaded with LD_PRELOAD: makes lock calls fail the way
 * file systems we cannot mount here do.
 *   FAILLOCK=enolck  fcntl(F_SETLK*) and flock() fail with ENOLCK, as on
 *                    NFS without a lock daemon;
 *   FAILLOCK=nfs     flock() on a descriptor open read-only fails with
 *                    EBADF, as NFSv4's flock emulation does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

static const char *
mode(void)
{
	const char *m = getenv("FAILLOCK");

	return m != NULL ? m : "";
}

int
flock(int fd, int op)
{
	static int (*real)(int, int);

	if (real == NULL)
		real = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
	if (strcmp(mode(), "enolck") == 0 && (op & LOCK_UN) == 0) {
		errno = ENOLCK;
		return -1;
	}
	if (strcmp(mode(), "nfs") == 0 && (op & LOCK_UN) == 0 &&
	    (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY) {
		errno = EBADF;
		return -1;
	}
	return real(fd, op);
}

int
fcntl(int fd, int cmd, ...)
{
	static int (*real)(int, int, ...);
	va_list ap;
	void *arg;

	if (real == NULL)
		real = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl");
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (strcmp(mode(), "enolck") == 0 && (cmd == F_SETLK ||
	    cmd == F_SETLKW || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW)) {
		errno = ENOLCK;
		return -1;
	}
	return real(fd, cmd, arg);
}
