/*
 * solo's command line, which solo-etcd (solo --etcd, exec'd by solo with
 * the same arguments) reads again: one table of options for the two
 * programs, so that each knows every option of the other's and can
 * refuse it by name, and one parser for the options both take.
 */
#ifndef LOCKKIT_SOLOOPT_H
#define LOCKKIT_SOLOOPT_H

#include <getopt.h>
#include <stdbool.h>
#include <time.h>

/* getopt_long()'s values for the long options without a short one. */
enum {
	SOLOOPT_ABSTRACT = 256, SOLOOPT_CACERT, SOLOOPT_CERT, SOLOOPT_DIR,
	SOLOOPT_ETCD, SOLOOPT_JSON, SOLOOPT_KEY, SOLOOPT_KILLAFTER,
	SOLOOPT_LIST, SOLOOPT_MAXTIME, SOLOOPT_PRIVATE, SOLOOPT_REPLACE,
	SOLOOPT_SLOTS, SOLOOPT_TEST, SOLOOPT_TTL, SOLOOPT_USER
};

/* The short options, '+' first: the command's options are never ours. */
#define SOLOOPT_SHORT	"+a:E:hqU:Vvw:"

/* Every long option of solo's and solo-etcd's, for getopt_long(). */
extern const struct option soloopt_long[];

/* What the options both programs take set. */
struct soloopt {
	const char	*name;		/* -U, NULL without */
	int		 conflict;	/* -E: the exit status when held */
	bool		 quiet;		/* -q */
	bool		 verbose;	/* -v */
	bool		 test;		/* --test */
	bool		 have_wait;	/* -w given */
	struct timespec	 wait;		/* -w, tv_sec -1 for inf */
	struct timespec	 maxtime;	/* --max-time, 0 without */
};

/* Defaults: no name, conflict LK_EXIT_CONFLICT, everything else off. */
void	soloopt_init(struct soloopt *);

/*
 * One option from getopt_long(), ch and its argument arg: if it is one
 * both programs take (-E, -q, -U, -V, -v, -w, --max-time, --test), set
 * it in o and return true; else return false and leave o alone.  -V
 * prints the version and exits; a bad value (parse_exit_status_arg(),
 * parse_duration_arg()) exits LK_EXIT_USAGE with one line.
 */
bool	soloopt_parse(struct soloopt *o, int ch, const char *arg);

/*
 * After the options, with argc the words left for the command: the
 * operand rules both programs share.  --test takes no command, no -w and
 * no --max-time; without --test a command is required.  A breach exits
 * LK_EXIT_USAGE with one line.
 */
void	soloopt_check(const struct soloopt *o, int argc);

#endif
