#include <sys/wait.h>

#include <errno.h>

#include "exitcode.h"

int
exit_for_open(int e)
{
	switch (e) {
	case ENOMEM:
	case EMFILE:
	case ENFILE:
		return LK_EXIT_OSERR;
	case EROFS:
	case ENOSPC:
	case EDQUOT:
		return LK_EXIT_CANTCREAT;
	default:
		return LK_EXIT_NOINPUT;
	}
}

int
exit_for_lock(int e)
{
	return (e == ENOLCK || e == ENOMEM) ? LK_EXIT_OSERR : LK_EXIT_LOCKFAIL;
}

int
exit_for_exec(int e)
{
	return e == ENOMEM ? LK_EXIT_OSERR : LK_EXIT_UNAVAILABLE;
}

int
exit_for_wait(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return LK_EXIT_SIGBASE + WTERMSIG(status);
	return LK_EXIT_OSERR;
}

int
exit_for_lockdev(int e)
{
	static const int map[][2] = {
		{ EACCES, 2 }, { EROFS, 3 }, { EFAULT, 4 }, { EINVAL, 5 },
		{ ENAMETOOLONG, 6 }, { ENOENT, 7 }, { ENOTDIR, 8 },
		{ ENOMEM, 9 }, { ELOOP, 10 }, { EIO, 11 }, { EPERM, 12 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i][0] == e)
			return map[i][1];
	return 255;
}
