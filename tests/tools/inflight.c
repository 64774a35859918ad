/*
 * inflight FILE COMMAND [ARG...]: a child flocks FILE, sends the
 * descriptor into a socket pair of ours (SCM_RIGHTS) and exits; then we
 * exec COMMAND with both ends of the pair open: the lock is held by a
 * descriptor in flight, which no process has open, and /proc/locks names
 * the dead child, until COMMAND ends.  For tests
 * of how a holder that no /proc entry names is described.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <err.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	char byte = 'x', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg;
	struct cmsghdr *c;
	int fd, sv[2], status;
	pid_t pid;

	if (argc < 3)
		errx(64, "usage: inflight file command [arg ...]");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		err(71, "socketpair");
	if ((pid = fork()) == -1)
		err(71, "fork");
	if (pid > 0) {
		if (waitpid(pid, &status, 0) == -1 || status != 0)
			errx(71, "the child failed");
		execvp(argv[2], argv + 2);
		err(69, "%s", argv[2]);
	}
	if ((fd = open(argv[1], O_RDONLY)) == -1)
		err(66, "%s", argv[1]);
	if (flock(fd, LOCK_EX) == -1)
		err(71, "flock");
	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sv[0], &msg, 0) != 1)
		err(71, "sendmsg");
	_exit(0);
}
