/*
 * Test helper, loaded with LD_PRELOAD: makes lock calls fail the way
 * file systems we cannot mount here do.
 *   FAILLOCK=enolck  fcntl(F_SETLK*) and flock() fail with ENOLCK, as on
 *                    NFS without a lock daemon;
 *   FAILLOCK=nfs     flock() on a descriptor open read-only fails with
 *                    EBADF, as NFSv4's flock emulation does;
 *   FAILLOCK=notmpfile  openat(O_TMPFILE) fails with EOPNOTSUPP, as on
 *                    NFS and other file systems without unnamed files.
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

int
openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	va_list ap;
	mode_t m = 0;

	if (real == NULL)
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
		    "openat");
	if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
		va_start(ap, flags);
		m = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (strcmp(mode(), "notmpfile") == 0 &&
	    (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return -1;
	}
	return real(dirfd, path, flags, m);
}
