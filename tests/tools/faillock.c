/*
 * Test helper, loaded with LD_PRELOAD: makes lock calls fail the way
 * file systems we cannot mount here do.
 *   FAILLOCK=enolck  fcntl(F_SETLK*) and flock() fail with ENOLCK, as on
 *                    NFS without a lock daemon;
 *   FAILLOCK=nfs     flock() on a descriptor open read-only fails with
 *                    EBADF, as NFSv4's flock emulation does;
 *   FAILLOCK=notmpfile  openat(O_TMPFILE) fails with EOPNOTSUPP, as on
 *                    NFS and other file systems without unnamed files;
 *   FAILLOCK=knock:DIR  the first connect() writes a line to the fifo
 *                    DIR/knocking, then waits for one on DIR/knock: a
 *                    test acts between a waiter's failed bind and its
 *                    connect.
 *   FAILLOCK=reusepid  when waitpid() reaps a child, its pid goes at once to
 *                    a new process that lives on (in a pid namespace of
 *                    the test's, through ns_last_pid): a pid reused as
 *                    soon as it is free.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Write a line to DIR/NAME, or read one from it (a fifo). */
static void
fifo_line(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX], c = '\n';
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, flags | O_CLOEXEC)) == -1)
		return;
	if (flags == O_WRONLY)
		(void)write(fd, &c, 1);
	else
		(void)read(fd, &c, 1);
	close(fd);
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	static int done;

	if (real == NULL)
		real = (int (*)(int, const struct sockaddr *, socklen_t))
		    dlsym(RTLD_NEXT, "connect");
	if (strncmp(mode(), "knock:", 6) == 0 && !done) {
		done = 1;
		fifo_line(mode() + 6, "knocking", O_WRONLY);
		fifo_line(mode() + 6, "knock", O_RDONLY);
	}
	return real(fd, sa, len);
}

/* A process with pid, idle until the namespace goes; 0 or -1. */
static int
spawn_as(pid_t pid)
{
	char buf[32];
	pid_t got;
	int fd, n;

	if ((fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC))
	    == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%d", (int)pid - 1);
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	switch (got = fork()) {
	case -1:
		return -1;
	case 0:
		/* Hold no pipe of the test's open: bats waits for them. */
		for (fd = 0; fd < 1024; fd++)
			close(fd);
		for (;;)
			pause();
	}
	return got == pid ? 0 : -1;
}

pid_t
waitpid(pid_t pid, int *status, int options)
{
	static pid_t (*real)(pid_t, int *, int);
	pid_t r;

	if (real == NULL)
		real = (pid_t (*)(pid_t, int *, int))dlsym(RTLD_NEXT,
		    "waitpid");
	r = real(pid, status, options);
	if (r > 0 && strcmp(mode(), "reusepid") == 0 && spawn_as(r) == -1)
		fprintf(stderr, "faillock: pid %d not reused\n", (int)r);
	return r;
}
