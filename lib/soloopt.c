#include <err.h>
#include <stddef.h>

#include "exitcode.h"
#include "parse.h"
#include "soloopt.h"
#include "version.h"

const struct option soloopt_long[] = {
	{ "abstract",		no_argument,		NULL, SOLOOPT_ABSTRACT },
	{ "addr",		required_argument,	NULL, 'a' },
	{ "cacert",		required_argument,	NULL, SOLOOPT_CACERT },
	{ "cert",		required_argument,	NULL, SOLOOPT_CERT },
	{ "conflict-exit-code",	required_argument,	NULL, 'E' },
	{ "dir",		required_argument,	NULL, SOLOOPT_DIR },
	{ "etcd",		required_argument,	NULL, SOLOOPT_ETCD },
	{ "help",		no_argument,		NULL, 'h' },
	{ "json",		no_argument,		NULL, SOLOOPT_JSON },
	{ "key",		required_argument,	NULL, SOLOOPT_KEY },
	{ "kill-after",		required_argument,	NULL, SOLOOPT_KILLAFTER },
	{ "list",		no_argument,		NULL, SOLOOPT_LIST },
	{ "max-time",		required_argument,	NULL, SOLOOPT_MAXTIME },
	{ "private",		no_argument,		NULL, SOLOOPT_PRIVATE },
	{ "quiet",		no_argument,		NULL, 'q' },
	{ "replace",		no_argument,		NULL, SOLOOPT_REPLACE },
	{ "slots",		required_argument,	NULL, SOLOOPT_SLOTS },
	{ "test",		no_argument,		NULL, SOLOOPT_TEST },
	{ "ttl",		required_argument,	NULL, SOLOOPT_TTL },
	{ "unix",		required_argument,	NULL, 'U' },
	{ "user",		required_argument,	NULL, SOLOOPT_USER },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "version",		no_argument,		NULL, 'V' },
	{ "wait",		required_argument,	NULL, 'w' },
	{ NULL,			0,			NULL, 0 }
};

void
soloopt_init(struct soloopt *o)
{
	*o = (struct soloopt){ .conflict = LK_EXIT_CONFLICT };
}

bool
soloopt_parse(struct soloopt *o, int ch, const char *arg)
{
	switch (ch) {
	case 'E':
		o->conflict = parse_exit_status_arg(arg);
		return true;
	case 'q':
		o->quiet = true;
		return true;
	case 'U':
		o->name = arg;
		return true;
	case 'V':
		print_version();
	case 'v':
		o->verbose = true;
		return true;
	case 'w':
		parse_duration_arg("wait", arg, true, &o->wait);
		o->have_wait = true;
		return true;
	case SOLOOPT_MAXTIME:
		parse_duration_arg("max-time", arg, false, &o->maxtime);
		return true;
	case SOLOOPT_TEST:
		o->test = true;
		return true;
	}
	return false;
}

void
soloopt_check(const struct soloopt *o, int argc)
{
	if (o->test && argc > 0)
		errx(LK_EXIT_USAGE, "--test takes no command");
	if (o->test && (o->have_wait || o->maxtime.tv_sec > 0 ||
	    o->maxtime.tv_nsec > 0))
		errx(LK_EXIT_USAGE, "--test neither waits nor runs a command: "
		    "-w and --max-time do not apply");
	if (!o->test && argc == 0)
		errx(LK_EXIT_USAGE, "missing command");
}
