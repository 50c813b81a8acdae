/* SPDX-License-Identifier: MIT */
/*
 * gtctl: the command-line client of gtd.  argv becomes one protocol
 * request (built with jansson), client.c carries it, and the reply
 * becomes text for people (or is passed through with --json) and an
 * exit status.  One table entry per command; most commands differ only
 * in their wire op and their printer.  A word that is not in the table
 * is sent as an op of its own, so a new gtd command needs no change here.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "gt/client.h"
#include "gt/proto.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#define GTCTL_EXIT_REFUSED	1	/* gtd answered "ok":false */
#define GTCTL_EXIT_ABSENT	3	/* a lookup found no running child */
#define GTCTL_TIMEOUT_MS	10000	/* default -t for ops that never wait */
#define GTCTL_NOPTS		3	/* options of one command, at most */

#define GTCTL_USAGE \
    "usage: gtctl [-hV] [--json] [-s socket] [-z zone] [-t timeout_ms] " \
    "command [arg ...]"

/* An option of one command: --name or -letter, maybe with a value. */
struct gtctl_opt {
	const char	*name;
	int		 letter;		/* 0: long form only */
	bool		 has_arg;
};

/* argv after the command word(s); every pointer is borrowed from argv. */
struct gtctl_args {
	char		**pos;			/* positionals; owned array */
	int		  npos;
	char		**cmd;			/* words after "--", or NULL */
	int		  ncmd;
	const char	 *opt[GTCTL_NOPTS];	/* "": a flag; NULL: absent */
	bool		  help;			/* -h, --help */
	bool		  json;			/* --json after the command */
};

struct gtctl;
typedef int	gtctl_exec_fn(struct gtctl *, struct gtctl_args *);
typedef int	gtctl_print_fn(struct gtctl *, json_t *);

struct gtctl_cmd {
	const char		*name;		/* "ls", or "attr get" */
	const char		*alias;
	const char		*op;		/* the wire op */
	const char		*usage;		/* arguments, as in gtctl(1) */
	const char		*help;
	int			 flags;
#define GTCTL_WAITS	0x1	/* may wait on a child: no default -t */
#define GTCTL_LOOKUP	0x2	/* not_found/not_running exit 3 */
#define GTCTL_ARGV	0x4	/* takes "-- cmd [arg ...]" */
#define GTCTL_NAME	0x8	/* a name is required */
	int			 minpos;
	int			 maxpos;	/* -1: no limit */
	const struct gtctl_opt	*opts;		/* NULL-terminated, or NULL */
	gtctl_exec_fn		*exec;		/* NULL: gtctl_exec_generic */
	gtctl_print_fn		*print;
};

/* One run of gtctl.  Owns path, client and the lazily made connection. */
struct gtctl {
	char			*path;
	struct client		*client;
	const struct gtctl_cmd	*cmd;
	int			 timeout_ms;	/* -1: -t not given */
	bool			 json;
	bool			 waits;		/* this request may wait */
	bool			 wide;		/* ls -a */
	bool			 bad_utf8;	/* jansson refused an arg */
};

/* A text table with aligned columns; owns its cells. */
struct gtctl_table {
	size_t	  ncol;				/* cells in a row */
	size_t	  nshow;			/* columns printed */
	size_t	  nrow;
	char	**cell;
};

static void	gtctl_usage(void) __attribute__((noreturn));
static void	gtctl_help(void);
static void	gtctl_cmd_help(const struct gtctl_cmd *);
static bool	gtctl_is_group(const char *);
static int	gtctl_group_help(const char *, bool);
static const struct gtctl_cmd *gtctl_cmd_find(int, char **, int *);
static int	gtctl_parse(const struct gtctl_cmd *, int, char **,
		    struct gtctl_args *);
static int	gtctl_parse_opt(const struct gtctl_cmd *, struct gtctl_args *,
		    char **, int *);
static int	gtctl_check_args(const struct gtctl_cmd *,
		    struct gtctl_args *);
static int	gtctl_run_cmd(struct gtctl *, const struct gtctl_cmd *, int,
		    char **);
static int	gtctl_bad_usage(const struct gtctl_cmd *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static const char *gtctl_optval(const struct gtctl *, struct gtctl_args *,
		    const char *);
static int	gtctl_int(const char *, const char *, json_int_t *);

static json_t	*gtctl_value(const char *);
static void	 gtctl_set(struct gtctl *, json_t *, const char *, json_t *);
static void	 gtctl_set_path(struct gtctl *, json_t *, const char *,
		    json_t *);
static int	 gtctl_add_kv(struct gtctl *, json_t *, char **, int);
static json_t	*gtctl_strings(struct gtctl *, char **, int);
static json_t	*gtctl_request(struct gtctl *, const char *);
static int	 gtctl_build(struct gtctl *, struct gtctl_args *, const char *,
		    json_t **);

static int	gtctl_timeout(const struct gtctl *);
static int	gtctl_exchange(struct gtctl *, const char *, size_t,
		    const char **, size_t *);
static int	gtctl_parse_reply(const char *, size_t, json_t **);
static int	gtctl_refused(const struct gtctl *, json_t *);
static int	gtctl_call(struct gtctl *, json_t *, json_t **);
static int	gtctl_run(struct gtctl *, json_t *);
static int	gtctl_malformed(const char *);

static char	*gtctl_str(json_t *);
static char	*gtctl_str_key(const char *, json_t *);
static char	*gtctl_time(json_int_t);
static char	*gtctl_uptime(json_t *, json_t *);
static void	 gtctl_table_add(struct gtctl_table *, ...);
static void	 gtctl_table_print(struct gtctl_table *);
static void	 gtctl_flat(const char *, json_t *, bool);

static gtctl_exec_fn	gtctl_exec_events, gtctl_exec_logs, gtctl_exec_generic,
			gtctl_exec_ls, gtctl_exec_list,
			gtctl_exec_rm, gtctl_exec_raw, gtctl_exec_attr_get,
			gtctl_exec_attr_set, gtctl_exec_attr_del,
			gtctl_exec_kill, gtctl_exec_attr_incr, gtctl_exec_query;
static gtctl_print_fn	gtctl_print_none, gtctl_print_pong, gtctl_print_pid,
			gtctl_print_fields, gtctl_print_spec,
			gtctl_print_reason, gtctl_print_value,
			gtctl_print_attrs, gtctl_print_ls, gtctl_print_list,
			gtctl_print_query;
static int	gtctl_raw_line(struct gtctl *, const char *, size_t);
static int	gtctl_raw_stdin(struct gtctl *);

static const struct gtctl_opt gtctl_opts_logs[] = {
	{ "follow", 'f', false },
	{ "lines", 'n', true },
	{ NULL, 0, false }
};
static const struct gtctl_opt gtctl_opts_events[] = {
	{ "since", 0, true },
	{ NULL, 0, false }
};
static const struct gtctl_opt gtctl_opts_ls[] = {
	{ .name = "all", .letter = 'a' },
	{ .name = "state", .has_arg = true },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_open[] = {
	{ .name = "nowait" },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_stop[] = {
	{ .name = "pid", .has_arg = true },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_rm[] = {
	{ .name = "force", .letter = 'f' },
	{ .name = "pid", .has_arg = true },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_get[] = {
	{ .name = "wait", .has_arg = true },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_query[] = {
	{ .name = "max-rows", .has_arg = true },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_incr[] = {
	{ .name = "default", .has_arg = true },
	{ .name = NULL }
};

/* The commands, in the order of gtctl -h and gtctl(1). */
static const struct gtctl_cmd gtctl_cmds[] = {
	{ .name = "ping", .op = "ping", .usage = "",
	  .help = "check that gtd answers; prints pong",
	  .print = gtctl_print_pong },
	{ .name = "hello", .alias = "version", .op = "hello", .usage = "",
	  .help = "show the version, protocol, zone, pid and ops of gtd",
	  .print = gtctl_print_fields },
	{ .name = "ls", .op = "which_children",
	  .usage = "[-a] [--state state]",
	  .help = "list every child: NAME STATE PID UPTIME RESTARTS",
	  .opts = gtctl_opts_ls, .exec = gtctl_exec_ls,
	  .print = gtctl_print_ls },
	{ .name = "list", .op = "list", .usage = "[key ...]", .maxpos = -1,
	  .help = "list running children with their attrs",
	  .exec = gtctl_exec_list, .print = gtctl_print_list },
	{ .name = "find", .op = "find", .usage = "name",
	  .help = "print the pid of a running child",
	  .flags = GTCTL_LOOKUP | GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_pid },
	{ .name = "open", .op = "find_or_open",
	  .usage = "[--nowait] name [key=value ...] [-- cmd [arg ...]]",
	  .help = "find a running child or start it; prints its pid",
	  .flags = GTCTL_WAITS | GTCTL_ARGV | GTCTL_NAME, .maxpos = -1,
	  .opts = gtctl_opts_open, .print = gtctl_print_pid },
	{ .name = "start", .op = "start_child",
	  .usage = "[--nowait] name [key=value ...] [-- cmd [arg ...]]",
	  .help = "start a new child; prints its pid",
	  .flags = GTCTL_WAITS | GTCTL_ARGV | GTCTL_NAME, .maxpos = -1,
	  .opts = gtctl_opts_open, .print = gtctl_print_pid },
	{ .name = "stop", .op = "terminate_child",
	  .usage = "{name | --pid pid} [timeout_ms=N]",
	  .help = "stop a child and wait for it; prints how it ended",
	  .flags = GTCTL_WAITS | GTCTL_NAME, .maxpos = -1,
	  .opts = gtctl_opts_stop, .print = gtctl_print_reason },
	{ .name = "restart", .op = "restart_child", .usage = "name",
	  .help = "start a stopped child again; prints its pid",
	  .flags = GTCTL_WAITS | GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_pid },
	{ .name = "rm", .op = "delete_child",
	  .usage = "[-f] {name | --pid pid}",
	  .help = "delete a child that is not running (-f: stop it first)",
	  .flags = GTCTL_NAME, .maxpos = 1, .opts = gtctl_opts_rm,
	  .exec = gtctl_exec_rm, .print = gtctl_print_none },
	{ .name = "kill", .op = "signal", .usage = "name signal",
	  .help = "send a signal (HUP, SIGUSR1, 9) to a child",
	  .flags = GTCTL_NAME, .minpos = 2, .maxpos = 2,
	  .exec = gtctl_exec_kill, .print = gtctl_print_none },
	{ .name = "adopt", .op = "add_existing_child",
	  .usage = "name pid=N [key=value ...] [-- cmd [arg ...]]",
	  .help = "supervise a process gtd did not start; prints its pid",
	  .flags = GTCTL_ARGV | GTCTL_NAME, .minpos = 2, .maxpos = -1,
	  .print = gtctl_print_pid },
	{ .name = "release", .op = "release", .usage = "name",
	  .help = "stop supervising a child; the process keeps running",
	  .flags = GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_none },
	{ .name = "logs", .op = "logs", .usage = "[-f] [-n lines] name",
	  .help = "print the last lines a child wrote (-f: and follow)",
	  .flags = GTCTL_LOOKUP | GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .opts = gtctl_opts_logs, .exec = gtctl_exec_logs,
	  .print = gtctl_print_none },
	{ .name = "events", .op = "subscribe",
	  .usage = "[--since seq] [name ...]",
	  .help = "print events as they happen (all children, or these)",
	  .flags = GTCTL_WAITS, .maxpos = -1, .opts = gtctl_opts_events,
	  .exec = gtctl_exec_events, .print = gtctl_print_none },
	{ .name = "info", .op = "info", .usage = "name",
	  .help = "show everything gtd knows about a child",
	  .flags = GTCTL_LOOKUP | GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_fields },
	{ .name = "attrs", .op = "info", .usage = "name",
	  .help = "show the attrs of a child",
	  .flags = GTCTL_LOOKUP | GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_attrs },
	{ .name = "spec", .op = "get_childspec", .usage = "name",
	  .help = "print the normalised childspec of a child",
	  .flags = GTCTL_LOOKUP | GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_spec },
	{ .name = "check", .op = "check_childspec",
	  .usage = "[name] [key=value ...] [-- cmd [arg ...]]",
	  .help = "validate a childspec; prints it normalised",
	  .flags = GTCTL_ARGV, .maxpos = -1, .print = gtctl_print_spec },
	{ .name = "attr get", .op = "getattr",
	  .usage = "[--wait ms] name key",
	  .help = "print the value of an attr",
	  .flags = GTCTL_LOOKUP, .minpos = 2, .maxpos = 2,
	  .opts = gtctl_opts_get, .exec = gtctl_exec_attr_get,
	  .print = gtctl_print_value },
	{ .name = "attr set", .op = "setattr",
	  .usage = "name key value [key value ...]",
	  .help = "set attrs of a running child",
	  .minpos = 3, .maxpos = -1, .exec = gtctl_exec_attr_set,
	  .print = gtctl_print_none },
	{ .name = "attr del", .op = "delattr", .usage = "name key",
	  .help = "delete an attr", .minpos = 2, .maxpos = 2,
	  .exec = gtctl_exec_attr_del, .print = gtctl_print_none },
	{ .name = "attr incr", .op = "increment",
	  .usage = "[--default N] name key [by]",
	  .help = "add to an integer attr; prints the new value",
	  .minpos = 2, .maxpos = 3, .opts = gtctl_opts_incr,
	  .exec = gtctl_exec_attr_incr, .print = gtctl_print_value },
	{ .name = "count", .op = "count_children", .usage = "",
	  .help = "count children: specs, active, workers, supervisors",
	  .print = gtctl_print_fields },
	{ .name = "query", .op = "query",
	  .usage = "[--max-rows N] sql [param ...]",
	  .help = "run read-only SQL on the registry; prints a table",
	  .minpos = 1, .maxpos = -1, .opts = gtctl_opts_query,
	  .exec = gtctl_exec_query, .print = gtctl_print_query },
	{ .name = "stats", .op = "stats", .usage = "",
	  .help = "show the counters of gtd",
	  .print = gtctl_print_fields },
	{ .name = "reload", .op = "reload", .usage = "",
	  .help = "re-read the config file and apply the difference",
	  .print = gtctl_print_none },
	{ .name = "shutdown", .op = "shutdown", .usage = "[timeout_ms=N]",
	  .help = "stop every child and make gtd exit",
	  .maxpos = 1, .print = gtctl_print_none },
	{ .name = "raw", .op = NULL, .usage = "[json ...]",
	  .help = "send request lines (or stdin) as they are; print replies",
	  .flags = GTCTL_WAITS, .maxpos = -1, .exec = gtctl_exec_raw },
	{ .name = NULL }
};

/* Any other word: sent as the op, "gtctl OP [name] [key=value ...]". */
static const struct gtctl_cmd gtctl_cmd_any = {
	.usage = "[name] [key=value ...] [-- cmd [arg ...]]",
	.help = "send the op with these arguments; print the result",
	.flags = GTCTL_WAITS | GTCTL_ARGV, .maxpos = -1,
	.print = gtctl_print_fields
};

static void
gtctl_usage(void)
{
	fprintf(stderr, "%s\n", GTCTL_USAGE);
	exit(EX_USAGE);
}

static void
gtctl_help(void)
{
	const struct gtctl_cmd	*c;
	char			*s;

	printf("%s\n\ncommands:\n", GTCTL_USAGE);
	for (c = gtctl_cmds; c->name != NULL; c++) {
		xasprintf(&s, "%s%s%s", c->name, *c->usage ? " " : "",
		    c->usage);
		/* Long usages get the help text on a line of its own. */
		if (strlen(s) < 30)
			printf("  %-30s %s\n", s, c->help);
		else
			printf("  %s\n%33s%s\n", s, "", c->help);
		free(s);
	}
	printf("  op %s\n%33s%s\n", gtctl_cmd_any.usage, "",
	    gtctl_cmd_any.help);
	printf("\nEvery command takes --help.  See gtctl(1).\n");
}

static void
gtctl_cmd_help(const struct gtctl_cmd *c)
{
	printf("usage: gtctl %s%s%s\n%s", c->name, *c->usage ? " " : "",
	    c->usage, c->help);
	if (c->op != NULL)
		printf(" (op %s)", c->op);
	printf("\n");
}

/* Whether word is the first of two-word commands ("attr"). */
static bool
gtctl_is_group(const char *word)
{
	const struct gtctl_cmd	*c;
	size_t			 n = strlen(word);

	for (c = gtctl_cmds; c->name != NULL; c++) {
		if (strncmp(c->name, word, n) == 0 && c->name[n] == ' ')
			return (true);
	}
	return (false);
}

/* "gtctl attr" without a known second word: list that group. */
static int
gtctl_group_help(const char *group, bool help)
{
	const struct gtctl_cmd	*c;
	size_t			 n = strlen(group);
	FILE			*f = help ? stdout : stderr;

	for (c = gtctl_cmds; c->name != NULL; c++) {
		if (strncmp(c->name, group, n) == 0 && c->name[n] == ' ')
			fprintf(f, "usage: gtctl %s %s\n", c->name, c->usage);
	}
	return (help ? 0 : EX_USAGE);
}

/*
 * The table entry for argv[0] (and argv[1] for two-word commands), with
 * the number of words used in *used; NULL if there is none.
 */
static const struct gtctl_cmd *
gtctl_cmd_find(int argc, char **argv, int *used)
{
	const struct gtctl_cmd	*c;
	size_t			 n = strlen(argv[0]);

	for (c = gtctl_cmds; c->name != NULL; c++) {
		*used = 1;
		if (strcmp(c->name, argv[0]) == 0 ||
		    (c->alias != NULL && strcmp(c->alias, argv[0]) == 0))
			return (c);
		*used = 2;
		if (argc > 1 && strncmp(c->name, argv[0], n) == 0 &&
		    c->name[n] == ' ' && strcmp(c->name + n + 1, argv[1]) == 0)
			return (c);
	}
	return (NULL);
}

static int
gtctl_bad_usage(const struct gtctl_cmd *c, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "gtctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: gtctl %s%s%s\n", c->name,
	    *c->usage ? " " : "", c->usage);
	return (EX_USAGE);
}

/* One option at argv[*i]; may use argv[*i + 1] as its value. */
static int
gtctl_parse_opt(const struct gtctl_cmd *c, struct gtctl_args *a,
    char **argv, int *i)
{
	const struct gtctl_opt	*o;
	const char		*arg = argv[*i], *eq;
	size_t			 n;
	int			 k;

	if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
		a->help = true;
		return (0);
	}
	if (strcmp(arg, "--json") == 0) {
		a->json = true;
		return (0);
	}
	eq = strchr(arg, '=');
	n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	for (k = 0, o = c->opts; o != NULL && o->name != NULL; k++, o++) {
		if ((arg[1] == '-' && strlen(o->name) == n - 2 &&
		    strncmp(arg + 2, o->name, n - 2) == 0) ||
		    (arg[1] == o->letter && arg[2] == '\0'))
			break;
	}
	if (o == NULL || o->name == NULL)
		return (gtctl_bad_usage(c, "unknown option %s", arg));
	if (!o->has_arg) {
		a->opt[k] = "";
		return (eq == NULL ? 0 :
		    gtctl_bad_usage(c, "--%s takes no value", o->name));
	}
	if (eq != NULL && arg[1] == '-')
		a->opt[k] = eq + 1;
	else if (argv[*i + 1] != NULL)
		a->opt[k] = argv[++*i];
	else
		return (gtctl_bad_usage(c, "%s needs a value", arg));
	return (0);
}

/*
 * Split argv into options, positionals and the words after "--".  A word
 * is an option when it starts with '-' and is not a negative number, so
 * "attr incr web n -1" works.  Returns 0 or EX_USAGE.
 */
static int
gtctl_parse(const struct gtctl_cmd *c, int argc, char **argv,
    struct gtctl_args *a)
{
	const char	*arg;
	int		 i, ret;

	memset(a, 0, sizeof *a);
	a->pos = xcalloc(argc + 1, sizeof *a->pos);
	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			a->cmd = argv + i + 1;
			a->ncmd = argc - i - 1;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0' ||
		    isdigit((unsigned char)arg[1]))
			a->pos[a->npos++] = argv[i];
		else if ((ret = gtctl_parse_opt(c, a, argv, &i)) != 0)
			return (ret);
	}
	return (0);
}

/* The argument counts and "--" against what the command accepts. */
static int
gtctl_check_args(const struct gtctl_cmd *c, struct gtctl_args *a)
{
	if (a->cmd != NULL && !(c->flags & GTCTL_ARGV))
		return (gtctl_bad_usage(c, "unexpected --"));
	if (a->cmd != NULL && a->ncmd == 0)
		return (gtctl_bad_usage(c, "no command after --"));
	if (a->npos < c->minpos)
		return (gtctl_bad_usage(c, "missing argument"));
	if (c->maxpos != -1 && a->npos > c->maxpos)
		return (gtctl_bad_usage(c, "too many arguments"));
	return (0);
}

/* The value of --name for the current command, or NULL. */
static const char *
gtctl_optval(const struct gtctl *g, struct gtctl_args *a, const char *name)
{
	const struct gtctl_opt	*o;
	int			 k;

	for (k = 0, o = g->cmd->opts; o != NULL && o->name != NULL; k++, o++)
		if (strcmp(o->name, name) == 0)
			return (a->opt[k]);
	return (NULL);
}

/* Parse a decimal integer argument; 0, or EX_USAGE with a message. */
static int
gtctl_int(const char *what, const char *s, json_int_t *out)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		fprintf(stderr, "gtctl: %s: not an integer: %s\n", what, s);
		return (EX_USAGE);
	}
	*out = v;
	return (0);
}

/* A command-line value: JSON if it parses as JSON, else a string. */
static json_t *
gtctl_value(const char *s)
{
	json_t	*v;

	if ((v = json_loads(s, JSON_DECODE_ANY, NULL)) != NULL)
		return (v);
	return (json_string(s));		/* NULL if not UTF-8 */
}

/* Set obj[key] = v (stolen); note jansson refusing it (bad UTF-8). */
static void
gtctl_set(struct gtctl *g, json_t *obj, const char *key, json_t *v)
{
	if (v == NULL || json_object_set_new(obj, key, v) == -1)
		g->bad_utf8 = true;
}

/* Like gtctl_set, but "env.FOO" sets key FOO of the object at "env". */
static void
gtctl_set_path(struct gtctl *g, json_t *obj, const char *key, json_t *v)
{
	const char	*dot;
	char		*head;
	json_t		*sub;

	while ((dot = strchr(key, '.')) != NULL && dot != key &&
	    dot[1] != '\0') {
		head = xstrndup(key, dot - key);
		if (!json_is_object(sub = json_object_get(obj, head))) {
			sub = json_object();
			gtctl_set(g, obj, head, sub);
		}
		free(head);
		if (g->bad_utf8) {
			json_decref(v);
			return;
		}
		obj = sub;
		key = dot + 1;
	}
	gtctl_set(g, obj, key, v);
}

/* Add key=value words to req; EX_USAGE for a word without '='. */
static int
gtctl_add_kv(struct gtctl *g, json_t *req, char **words, int n)
{
	json_t	*v;
	char	*key;
	int	 i;
	size_t	 klen;

	for (i = 0; i < n; i++) {
		klen = strcspn(words[i], "=");
		if (words[i][klen] != '=' || klen == 0)
			return (gtctl_bad_usage(g->cmd,
			    "expected key=value: %s", words[i]));
		key = xstrndup(words[i], klen);
		/* Environment values are strings, even "env.PORT=8080". */
		if (strncmp(key, "env.", 4) == 0)
			v = json_string(words[i] + klen + 1);
		else
			v = gtctl_value(words[i] + klen + 1);
		gtctl_set_path(g, req, key, v);
		free(key);
	}
	return (0);
}

/* A JSON array of strings; bad UTF-8 is noted in g. */
static json_t *
gtctl_strings(struct gtctl *g, char **words, int n)
{
	json_t	*a = json_array(), *s;
	int	 i;

	for (i = 0; i < n; i++) {
		if ((s = json_string(words[i])) == NULL)
			g->bad_utf8 = true;
		else
			json_array_append_new(a, s);
	}
	return (a);
}

static json_t *
gtctl_request(struct gtctl *g, const char *op)
{
	json_t	*req = json_object();

	gtctl_set(g, req, "op", json_string(op));
	return (req);
}

/*
 * The request of most commands: op, then name (the first positional
 * without '='), key=value words, "cmd" from the words after "--", and
 * the options that map to arguments (--nowait, --pid, --state).
 */
static int
gtctl_build(struct gtctl *g, struct gtctl_args *a, const char *op,
    json_t **reqp)
{
	json_t		*req = gtctl_request(g, op);
	const char	*v;
	json_int_t	 pid;
	int		 first = 0, ret;

	*reqp = req;
	if (a->npos > 0 && strchr(a->pos[0], '=') == NULL) {
		gtctl_set(g, req, "name", json_string(a->pos[0]));
		first = 1;
	}
	if ((v = gtctl_optval(g, a, "pid")) != NULL) {
		if (first == 1)
			return (gtctl_bad_usage(g->cmd, "name and --pid"));
		if ((ret = gtctl_int("--pid", v, &pid)) != 0)
			return (ret);
		gtctl_set(g, req, "pid", json_integer(pid));
	} else if (first == 0 && (g->cmd->flags & GTCTL_NAME))
		return (gtctl_bad_usage(g->cmd, "missing name"));
	if (gtctl_optval(g, a, "nowait") != NULL)
		gtctl_set(g, req, "wait", json_false());
	if ((v = gtctl_optval(g, a, "state")) != NULL)
		gtctl_set(g, req, "state", json_string(v));
	if (a->cmd != NULL)
		gtctl_set(g, req, "cmd", gtctl_strings(g, a->cmd, a->ncmd));
	return (gtctl_add_kv(g, req, a->pos + first, a->npos - first));
}

static int
gtctl_exec_generic(struct gtctl *g, struct gtctl_args *a)
{
	json_t	*req;
	int	 ret;

	if ((ret = gtctl_build(g, a, g->cmd->op, &req)) != 0) {
		json_decref(req);
		return (ret);
	}
	return (gtctl_run(g, req));
}

static int
gtctl_exec_ls(struct gtctl *g, struct gtctl_args *a)
{
	g->wide = gtctl_optval(g, a, "all") != NULL;
	return (gtctl_exec_generic(g, a));
}

static int
gtctl_exec_list(struct gtctl *g, struct gtctl_args *a)
{
	json_t	*req = gtctl_request(g, "list");

	if (a->npos > 0)
		gtctl_set(g, req, "keys", gtctl_strings(g, a->pos, a->npos));
	return (gtctl_run(g, req));
}

static int
gtctl_exec_rm(struct gtctl *g, struct gtctl_args *a)
{
	json_t	*req;
	int	 ret;

	if (gtctl_optval(g, a, "force") == NULL) {
		if (gtctl_optval(g, a, "pid") != NULL)
			return (gtctl_bad_usage(g->cmd, "--pid needs -f"));
		return (gtctl_exec_generic(g, a));
	}
	g->waits = true;		/* terminate_and_delete waits */
	if ((ret = gtctl_build(g, a, "terminate_and_delete", &req)) != 0) {
		json_decref(req);
		return (ret);
	}
	return (gtctl_run(g, req));
}

static int
gtctl_exec_attr_get(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op);
	const char	*v;
	json_int_t	 ms;

	gtctl_set(g, req, "name", json_string(a->pos[0]));
	gtctl_set(g, req, "key", json_string(a->pos[1]));
	if ((v = gtctl_optval(g, a, "wait")) != NULL) {
		if (gtctl_int("--wait", v, &ms) != 0) {
			json_decref(req);
			return (EX_USAGE);
		}
		gtctl_set(g, req, "wait_ms", json_integer(ms));
		g->waits = true;
	}
	return (gtctl_run(g, req));
}

static int
gtctl_exec_attr_set(struct gtctl *g, struct gtctl_args *a)
{
	json_t	*req, *attrs;
	int	 i;

	if (a->npos % 2 == 0)
		return (gtctl_bad_usage(g->cmd, "a key without a value"));
	req = gtctl_request(g, g->cmd->op);
	attrs = json_object();
	for (i = 1; i < a->npos; i += 2)
		gtctl_set(g, attrs, a->pos[i], gtctl_value(a->pos[i + 1]));
	gtctl_set(g, req, "name", json_string(a->pos[0]));
	gtctl_set(g, req, "attrs", attrs);
	return (gtctl_run(g, req));
}

static int
gtctl_exec_attr_del(struct gtctl *g, struct gtctl_args *a)
{
	json_t	*req = gtctl_request(g, g->cmd->op);

	gtctl_set(g, req, "name", json_string(a->pos[0]));
	gtctl_set(g, req, "key", json_string(a->pos[1]));
	return (gtctl_run(g, req));
}

static int	gtctl_stream_logs(struct gtctl *);

/* Print event lines until gtd goes away: raw with --json, else a line each. */
static int
gtctl_stream(struct gtctl *g)
{
	const char	*line;
	size_t		 len;
	json_t		*ev, *v;
	const char	*k;
	char		*t, *s;

	for (;;) {
		if ((line = client_recv(g->client, -1, &len)) == NULL)
			return (errno == ECONNRESET ? 0 : EX_UNAVAILABLE);
		if (g->json || (ev = json_loadb(line, len, 0, NULL)) == NULL) {
			printf("%s\n", line);
			fflush(stdout);
			continue;
		}
		t = gtctl_str_key("at", json_object_get(ev, "at"));
		printf("%s %s %s", t, json_string_value(json_object_get(ev,
		    "event")), json_string_value(json_object_get(ev, "name")));
		free(t);
		json_object_foreach(ev, k, v) {
			if (strcmp(k, "event") == 0 || strcmp(k, "name") == 0 ||
			    strcmp(k, "at") == 0 || strcmp(k, "seq") == 0)
				continue;
			s = gtctl_str(v);
			printf(" %s=%s", k, s);
			free(s);
		}
		printf("\n");
		fflush(stdout);
		json_decref(ev);
	}
}

static int
gtctl_exec_events(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op), *reply;
	const char	*v;
	json_int_t	 n;
	int		 ret;

	if (a->npos > 0)
		gtctl_set(g, req, "names", gtctl_strings(g, a->pos, a->npos));
	if ((v = gtctl_optval(g, a, "since")) != NULL) {
		if (gtctl_int("--since", v, &n) != 0) {
			json_decref(req);
			return (EX_USAGE);
		}
		gtctl_set(g, req, "since", json_integer(n));
	}
	if ((ret = gtctl_call(g, req, &reply)) != 0)
		return (ret);
	json_decref(reply);
	return (gtctl_stream(g));
}

static int
gtctl_exec_logs(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op), *reply, *ln;
	const char	*v;
	json_int_t	 n;
	size_t		 i;
	int		 ret;
	bool		 follow = gtctl_optval(g, a, "follow") != NULL;

	gtctl_set(g, req, "name", json_string(a->pos[0]));
	if ((v = gtctl_optval(g, a, "lines")) != NULL) {
		if (gtctl_int("-n", v, &n) != 0) {
			json_decref(req);
			return (EX_USAGE);
		}
		gtctl_set(g, req, "lines", json_integer(n));
	}
	if (follow) {
		g->waits = true;
		gtctl_set(g, req, "follow", json_true());
	}
	if ((ret = gtctl_call(g, req, &reply)) != 0)
		return (ret);
	if (!g->json)
		json_array_foreach(json_object_get(reply, "lines"), i, ln)
			printf("%s\n", json_string_value(json_object_get(ln,
			    "line")));
	fflush(stdout);
	json_decref(reply);
	if (!follow)
		return (0);
	return (gtctl_stream_logs(g));
}

/* Follow: print each log event's line (or the raw JSON with --json). */
static int
gtctl_stream_logs(struct gtctl *g)
{
	const char	*line;
	size_t		 len;
	json_t		*ev;

	for (;;) {
		if ((line = client_recv(g->client, -1, &len)) == NULL)
			return (errno == ECONNRESET ? 0 : EX_UNAVAILABLE);
		if (g->json || (ev = json_loadb(line, len, 0, NULL)) == NULL)
			printf("%s\n", line);
		else {
			printf("%s\n", json_string_value(json_object_get(ev,
			    "line")));
			json_decref(ev);
		}
		fflush(stdout);
	}
}

/* A signal is a name ("HUP", "SIGHUP") or a number. */
static int
gtctl_exec_kill(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op);
	json_int_t	 n;

	gtctl_set(g, req, "name", json_string(a->pos[0]));
	if (isdigit((unsigned char)*a->pos[1])) {
		if (gtctl_int("signal", a->pos[1], &n) != 0) {
			json_decref(req);
			return (EX_USAGE);
		}
		gtctl_set(g, req, "signal", json_integer(n));
	} else
		gtctl_set(g, req, "signal", json_string(a->pos[1]));
	return (gtctl_run(g, req));
}

static int
gtctl_exec_attr_incr(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op);
	const char	*v;
	json_int_t	 n;

	gtctl_set(g, req, "name", json_string(a->pos[0]));
	gtctl_set(g, req, "key", json_string(a->pos[1]));
	if (a->npos == 3) {
		if (gtctl_int("by", a->pos[2], &n) != 0)
			goto usage;
		gtctl_set(g, req, "by", json_integer(n));
	}
	if ((v = gtctl_optval(g, a, "default")) != NULL) {
		if (gtctl_int("--default", v, &n) != 0)
			goto usage;
		gtctl_set(g, req, "default", json_integer(n));
	}
	return (gtctl_run(g, req));
usage:
	json_decref(req);
	return (EX_USAGE);
}

/* raw: each argument (or each line of stdin) is one request. */
static int
gtctl_exec_raw(struct gtctl *g, struct gtctl_args *a)
{
	int	i, ret, worst = 0;

	if (a->npos == 0)
		return (gtctl_raw_stdin(g));
	for (i = 0; i < a->npos; i++) {
		ret = gtctl_raw_line(g, a->pos[i], strlen(a->pos[i]));
		if (ret == EX_UNAVAILABLE || ret == EX_USAGE)
			return (ret);
		if (ret > worst)
			worst = ret;
	}
	return (worst);
}

static int
gtctl_raw_stdin(struct gtctl *g)
{
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 n;
	int	 ret = 0, r;

	while ((n = getline(&line, &size, stdin)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[strspn(line, " \t\r")] == '\0')
			continue;		/* gtd would not answer */
		r = gtctl_raw_line(g, line, n);
		if (r == EX_UNAVAILABLE) {
			ret = r;
			break;
		}
		if (r > ret)
			ret = r;
	}
	free(line);
	return (ret);
}

/* Send one line verbatim and print the reply line verbatim. */
static int
gtctl_raw_line(struct gtctl *g, const char *line, size_t len)
{
	const char	*r;
	size_t		 rlen;
	json_t		*reply;
	int		 ret;

	if (memchr(line, '\n', len) != NULL ||
	    line[strspn(line, " \t\r")] == '\0')
		return (gtctl_bad_usage(g->cmd,
		    "a request is one non-blank line"));
	if ((ret = gtctl_exchange(g, line, len, &r, &rlen)) != 0)
		return (ret);
	fwrite(r, 1, rlen, stdout);
	putchar('\n');
	if ((ret = gtctl_parse_reply(r, rlen, &reply)) != 0)
		return (ret);
	if (json_is_false(json_object_get(reply, "ok")))
		ret = gtctl_refused(g, reply);
	json_decref(reply);
	return (ret);
}

/* How long to wait for a reply: -t, else none for ops that wait. */
static int
gtctl_timeout(const struct gtctl *g)
{
	if (g->timeout_ms == 0)
		return (-1);
	if (g->timeout_ms > 0)
		return (g->timeout_ms);
	return (g->waits ? -1 : GTCTL_TIMEOUT_MS);
}

/*
 * Connect if not yet connected, send line, and wait for one reply line
 * (borrowed until the next call).  0, or EX_UNAVAILABLE with a message.
 */
static int
gtctl_exchange(struct gtctl *g, const char *line, size_t len,
    const char **rp, size_t *rlenp)
{
	char	*cause;
	int	 timeout = gtctl_timeout(g), sent;

	if (g->client == NULL &&
	    (g->client = client_connect(g->path, &cause)) == NULL) {
		fprintf(stderr, "gtctl: %s (is gtd running?)\n", cause);
		free(cause);
		return (EX_UNAVAILABLE);
	}
	/*
	 * When the send fails, gtd may still have said why before closing
	 * (a "limit" error when it has too many connections): read it.
	 */
	sent = client_send(g->client, line, len);
	*rp = client_recv(g->client, sent == 0 ? timeout : 0, rlenp);
	if (*rp != NULL)
		return (0);
	if (errno == ETIMEDOUT && sent == 0)
		fprintf(stderr, "gtctl: %s: no reply within %d ms\n", g->path,
		    timeout);
	else if (errno == ECONNRESET || errno == ETIMEDOUT)
		fprintf(stderr, "gtctl: %s: connection closed by gtd\n",
		    g->path);
	else
		fprintf(stderr, "gtctl: %s: %s\n", g->path, strerror(errno));
	return (EX_UNAVAILABLE);
}

static int
gtctl_malformed(const char *why)
{
	fprintf(stderr, "gtctl: malformed reply: %s\n", why);
	return (EX_PROTOCOL);
}

/* Decode a reply line: an object with a boolean "ok"; else EX_PROTOCOL. */
static int
gtctl_parse_reply(const char *r, size_t rlen, json_t **replyp)
{
	json_error_t	 je;
	json_t		*reply;

	*replyp = NULL;
	if ((reply = json_loadb(r, rlen, 0, &je)) == NULL)
		return (gtctl_malformed(je.text));
	if (!json_is_boolean(json_object_get(reply, "ok"))) {
		json_decref(reply);
		return (gtctl_malformed("no \"ok\""));
	}
	*replyp = reply;
	return (0);
}

/* Report an "ok":false reply; the exit status. */
static int
gtctl_refused(const struct gtctl *g, json_t *reply)
{
	const char	*code, *msg;

	code = json_string_value(json_object_get(reply, "error"));
	msg = json_string_value(json_object_get(reply, "message"));
	if (code == NULL)
		return (gtctl_malformed("no \"error\""));
	fprintf(stderr, "gtctl: %s: %s\n", code, msg != NULL ? msg : code);
	if ((g->cmd->flags & GTCTL_LOOKUP) &&
	    (strcmp(code, GT_E_NOT_FOUND) == 0 ||
	    strcmp(code, GT_E_NOT_RUNNING) == 0))
		return (GTCTL_EXIT_ABSENT);
	return (GTCTL_EXIT_REFUSED);
}

/*
 * Send req (consumed) and read its reply.  With --json the reply line
 * goes to stdout as it is.  0 with the "ok":true reply in *replyp (the
 * caller decrefs it), or an exit status.
 */
static int
gtctl_call(struct gtctl *g, json_t *req, json_t **replyp)
{
	const char	*r;
	char		*line;
	size_t		 rlen;
	int		 ret;

	*replyp = NULL;
	line = g->bad_utf8 ? NULL : json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (line == NULL) {
		fprintf(stderr, "gtctl: argument is not valid UTF-8\n");
		return (EX_USAGE);
	}
	ret = gtctl_exchange(g, line, strlen(line), &r, &rlen);
	free(line);
	if (ret != 0)
		return (ret);
	if (g->json) {
		fwrite(r, 1, rlen, stdout);
		putchar('\n');
	}
	if ((ret = gtctl_parse_reply(r, rlen, replyp)) != 0)
		return (ret);
	if (json_is_false(json_object_get(*replyp, "ok"))) {
		ret = gtctl_refused(g, *replyp);
		json_decref(*replyp);
		*replyp = NULL;
	}
	return (ret);
}

/* Send req (consumed) and print the reply the command's way. */
static int
gtctl_run(struct gtctl *g, json_t *req)
{
	json_t	*reply;
	int	 ret;

	if ((ret = gtctl_call(g, req, &reply)) != 0)
		return (ret);
	if (!g->json)
		ret = g->cmd->print(g, reply);
	json_decref(reply);
	return (ret);
}

/* A JSON value as text: strings bare, null as "-", the rest as JSON. */
static char *
gtctl_str(json_t *v)
{
	char	*s;

	if (json_is_string(v))
		return (xstrdup(json_string_value(v)));
	if (v == NULL || json_is_null(v))
		return (xstrdup("-"));
	if (json_is_integer(v)) {
		xasprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return (s);
	}
	if ((s = proto_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return (xstrdup("?"));
	return (s);
}

/* Like gtctl_str, but *_at times are shown as local time. */
static char *
gtctl_str_key(const char *key, json_t *v)
{
	size_t	n = strlen(key);

	if (n > 3 && strcmp(key + n - 3, "_at") == 0 && json_is_integer(v))
		return (gtctl_time(json_integer_value(v)));
	if (strcmp(key, "at") == 0 && json_is_integer(v))
		return (gtctl_time(json_integer_value(v)));
	return (gtctl_str(v));
}

/* Epoch milliseconds as "2024-05-01 12:00:00.123" local time. */
static char *
gtctl_time(json_int_t ms)
{
	struct tm	tm;
	time_t		t = ms / 1000;
	char		buf[64];
	char		*s;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
		xasprintf(&s, "%" JSON_INTEGER_FORMAT, ms);
		return (s);
	}
	xasprintf(&s, "%s.%03d", buf, (int)(ms % 1000));
	return (s);
}

/* The UPTIME column: time since started_at, while there is a pid. */
static char *
gtctl_uptime(json_t *pid, json_t *started_at)
{
	struct timespec	ts;
	int64_t		s;
	char		*out;

	if (!json_is_integer(pid) || !json_is_integer(started_at))
		return (xstrdup("-"));
	clock_gettime(CLOCK_REALTIME, &ts);
	s = ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
	    json_integer_value(started_at)) / 1000;
	if (s < 0)
		s = 0;
	if (s < 60)
		xasprintf(&out, "%" PRId64 "s", s);
	else if (s < 3600)
		xasprintf(&out, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else if (s < 86400)
		xasprintf(&out, "%" PRId64 "h%02" PRId64 "m", s / 3600,
		    s / 60 % 60);
	else
		xasprintf(&out, "%" PRId64 "d%02" PRId64 "h", s / 86400,
		    s / 3600 % 24);
	return (out);
}

/* Add a row of t->ncol cells; takes the (xmalloc'd) strings. */
static void
gtctl_table_add(struct gtctl_table *t, ...)
{
	va_list	ap;
	size_t	i;

	t->cell = xreallocarray(t->cell, (t->nrow + 1) * t->ncol,
	    sizeof *t->cell);
	va_start(ap, t);
	for (i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = va_arg(ap, char *);
	va_end(ap);
	t->nrow++;
}

/* Print t with each column as wide as its widest cell; frees the cells. */
static void
gtctl_table_print(struct gtctl_table *t)
{
	size_t	w[8] = { 0 }, i, j, n;
	char	*s;

	assert(t->ncol <= 8 && t->nshow <= t->ncol);
	for (i = 0; i < t->nrow * t->ncol; i++) {
		if ((n = strlen(t->cell[i])) > w[i % t->ncol])
			w[i % t->ncol] = n;
	}
	for (i = 0; i < t->nrow; i++) {
		for (j = 0; j < t->ncol; j++) {
			s = t->cell[i * t->ncol + j];
			if (j + 1 < t->nshow)
				printf("%-*s  ", (int)w[j], s);
			else if (j + 1 == t->nshow)
				printf("%s\n", s);
			free(s);
		}
	}
	free(t->cell);
	t->cell = NULL;
	t->nrow = 0;
}

/* Objects as "key: value" lines, nested keys dotted ("spec.restart"). */
static void
gtctl_flat(const char *prefix, json_t *obj, bool top)
{
	const char	*key;
	json_t		*v;
	char		*path, *s;

	json_object_foreach(obj, key, v) {
		if (top && (strcmp(key, "ok") == 0 || strcmp(key, "id") == 0))
			continue;
		if (prefix != NULL)
			xasprintf(&path, "%s.%s", prefix, key);
		else
			path = xstrdup(key);
		if (json_is_object(v) && json_object_size(v) > 0)
			gtctl_flat(path, v, false);
		else {
			s = gtctl_str_key(key, v);
			printf("%s: %s\n", path, s);
			free(s);
		}
		free(path);
	}
}

static int
gtctl_print_none(struct gtctl *g, json_t *reply)
{
	return (0);
}

static int
gtctl_print_pong(struct gtctl *g, json_t *reply)
{
	printf("pong\n");
	return (0);
}

static int
gtctl_print_fields(struct gtctl *g, json_t *reply)
{
	gtctl_flat(NULL, reply, true);
	return (0);
}

static int
gtctl_print_pid(struct gtctl *g, json_t *reply)
{
	json_t	*pid = json_object_get(reply, "pid");

	if (!json_is_integer(pid))
		return (gtctl_malformed("no \"pid\""));
	printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(pid));
	return (0);
}

/* An attr value: strings bare (as they were set), the rest as JSON. */
static int
gtctl_print_value(struct gtctl *g, json_t *reply)
{
	json_t	*v = json_object_get(reply, "value");
	char	*s;

	if (v == NULL)
		return (gtctl_malformed("no \"value\""));
	s = json_is_null(v) ? xstrdup("null") : gtctl_str(v);
	printf("%s\n", s);
	free(s);
	return (0);
}

static int
gtctl_print_spec(struct gtctl *g, json_t *reply)
{
	json_t	*spec = json_object_get(reply, "spec");
	char	*s;

	if (!json_is_object(spec))
		return (gtctl_malformed("no \"spec\""));
	if ((s = proto_dumps(spec, JSON_INDENT(2))) == NULL)
		return (gtctl_malformed("bad \"spec\""));
	printf("%s\n", s);
	free(s);
	return (0);
}

static int
gtctl_print_attrs(struct gtctl *g, json_t *reply)
{
	const char	*key;
	json_t		*attrs = json_object_get(reply, "attrs"), *v;
	char		*s;

	if (attrs == NULL)
		return (0);		/* nothing to show */
	if (!json_is_object(attrs))
		return (gtctl_malformed("bad \"attrs\""));
	json_object_foreach(attrs, key, v) {
		s = json_is_null(v) ? xstrdup("null") : gtctl_str(v);
		printf("%s: %s\n", key, s);
		free(s);
	}
	return (0);
}

/* "exit status 0", "signal SIGTERM", plus " (requested)". */
static int
gtctl_print_reason(struct gtctl *g, json_t *reply)
{
	json_t	*r = json_object_get(reply, "reason"), *st, *sig;

	if (r == NULL || json_is_null(r))
		return (0);			/* there was no process */
	st = json_object_get(r, "exit_status");
	sig = json_object_get(r, "signal");
	if (json_is_integer(st))
		printf("exit status %" JSON_INTEGER_FORMAT,
		    json_integer_value(st));
	else if (json_is_string(sig))
		printf("signal %s", json_string_value(sig));
	else
		return (gtctl_malformed("bad \"reason\""));
	printf("%s\n", json_is_true(json_object_get(r, "requested")) ?
	    " (requested)" : "");
	return (0);
}

static int
gtctl_print_ls(struct gtctl *g, json_t *reply)
{
	struct gtctl_table	 t = { .ncol = 7, .nshow = g->wide ? 7 : 5 };
	json_t			*rows = json_object_get(reply, "children"), *r;
	size_t			 i;

	if (!json_is_array(rows))
		return (gtctl_malformed("no \"children\""));
	gtctl_table_add(&t, xstrdup("NAME"), xstrdup("STATE"), xstrdup("PID"),
	    xstrdup("UPTIME"), xstrdup("RESTARTS"), xstrdup("TYPE"),
	    xstrdup("RESTART"));
	json_array_foreach(rows, i, r) {
		gtctl_table_add(&t,
		    gtctl_str(json_object_get(r, "name")),
		    gtctl_str(json_object_get(r, "state")),
		    gtctl_str(json_object_get(r, "pid")),
		    gtctl_uptime(json_object_get(r, "pid"),
		    json_object_get(r, "started_at")),
		    gtctl_str(json_object_get(r, "restart_count")),
		    gtctl_str(json_object_get(r, "type")),
		    gtctl_str(json_object_get(r, "restart")));
	}
	gtctl_table_print(&t);
	return (0);
}

static int
gtctl_print_list(struct gtctl *g, json_t *reply)
{
	struct gtctl_table	 t = { .ncol = 3, .nshow = 3 };
	json_t			*rows = json_object_get(reply, "children"), *r;
	json_t			*attrs;
	size_t			 i;

	if (!json_is_array(rows))
		return (gtctl_malformed("no \"children\""));
	gtctl_table_add(&t, xstrdup("NAME"), xstrdup("PID"), xstrdup("ATTRS"));
	json_array_foreach(rows, i, r) {
		attrs = json_object_get(r, "attrs");
		gtctl_table_add(&t, gtctl_str(json_object_get(r, "name")),
		    gtctl_str(json_object_get(r, "pid")),
		    json_object_size(attrs) == 0 ? xstrdup("-") :
		    gtctl_str(attrs));
	}
	gtctl_table_print(&t);
	return (0);
}

/* query: the SQL, then each param as JSON if it parses, else a string. */
static int
gtctl_exec_query(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op), *params;
	const char	*v;
	json_int_t	 n;
	int		 i;

	gtctl_set(g, req, "sql", json_string(a->pos[0]));
	if (a->npos > 1) {
		params = json_array();
		for (i = 1; i < a->npos; i++)
			if (json_array_append_new(params,
			    gtctl_value(a->pos[i])) == -1)
				g->bad_utf8 = true;
		gtctl_set(g, req, "params", params);
	}
	if ((v = gtctl_optval(g, a, "max-rows")) != NULL) {
		if (gtctl_int("--max-rows", v, &n) != 0) {
			json_decref(req);
			return (EX_USAGE);
		}
		gtctl_set(g, req, "max_rows", json_integer(n));
	}
	return (gtctl_run(g, req));
}

/*
 * A query result as a table: a header of column names, then one line
 * per row, columns as wide as their widest cell (in bytes).  Any number
 * of columns, unlike gtctl_table.
 */
static int
gtctl_print_query(struct gtctl *g, json_t *reply)
{
	json_t	*cols = json_object_get(reply, "columns"), *rows, *row;
	size_t	 ncol, nrow, i, j, n, *w;
	char	**cell;

	rows = json_object_get(reply, "rows");
	if (!json_is_array(cols) || !json_is_array(rows))
		return (gtctl_malformed("no \"columns\" or \"rows\""));
	ncol = json_array_size(cols);
	nrow = json_array_size(rows) + 1;
	cell = xcalloc(nrow * ncol + 1, sizeof *cell);
	w = xcalloc(ncol + 1, sizeof *w);
	for (i = 0; i < nrow; i++) {
		row = i == 0 ? cols : json_array_get(rows, i - 1);
		for (j = 0; j < ncol; j++) {
			cell[i * ncol + j] = gtctl_str(json_array_get(row, j));
			if ((n = strlen(cell[i * ncol + j])) > w[j])
				w[j] = n;
		}
	}
	for (i = 0; i < nrow * ncol; i++) {
		j = i % ncol;
		if (j + 1 < ncol)
			printf("%-*s  ", (int)w[j], cell[i]);
		else
			printf("%s\n", cell[i]);
		free(cell[i]);
	}
	free(cell);
	free(w);
	if (json_is_true(json_object_get(reply, "truncated")))
		fprintf(stderr, "gtctl: truncated after %zu rows "
		    "(see --max-rows)\n", nrow - 1);
	return (0);
}

/* Parse the arguments of command c and run it; the exit status. */
static int
gtctl_run_cmd(struct gtctl *g, const struct gtctl_cmd *c, int argc,
    char **argv)
{
	struct gtctl_args	a;
	int			ret;

	g->cmd = c;
	g->waits = (c->flags & GTCTL_WAITS) != 0;
	ret = gtctl_parse(c, argc, argv, &a);
	g->json |= a.json;
	if (ret == 0 && a.help)
		gtctl_cmd_help(c);
	else if (ret == 0 && (ret = gtctl_check_args(c, &a)) == 0)
		ret = (c->exec != NULL ? c->exec : gtctl_exec_generic)(g, &a);
	free(a.pos);
	return (ret);
}

int
main(int argc, char **argv)
{
	static const struct option	 lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct gtctl			 g = { .timeout_ms = -1 };
	struct gtctl_cmd		 any;
	const struct gtctl_cmd		*c;
	const char			*sflag = NULL, *zflag = NULL;
	json_int_t			 t;
	int				 ch, used, ret;

	xmalloc_install_json();
	while ((ch = getopt_long(argc, argv, "+hVs:t:z:", lopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			gtctl_help();
			return (0);
		case 'j':
			g.json = true;
			break;
		case 'V':
			printf("gtctl %s (protocol %d)\n", GT_VERSION,
			    GT_PROTO_VERSION);
			return (0);
		case 's':
			sflag = optarg;
			break;
		case 't':
			if (gtctl_int("-t", optarg, &t) != 0 || t < 0 ||
			    t > INT_MAX)
				gtctl_usage();
			g.timeout_ms = t;
			break;
		case 'z':
			zflag = optarg;
			break;
		default:
			gtctl_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		gtctl_usage();

	if ((c = gtctl_cmd_find(argc, argv, &used)) == NULL) {
		if (gtctl_is_group(argv[0]))
			return (gtctl_group_help(argv[0], argc > 1 &&
			    (strcmp(argv[1], "-h") == 0 ||
			    strcmp(argv[1], "--help") == 0)));
		any = gtctl_cmd_any;
		any.name = any.op = argv[0];
		c = &any;
		used = 1;
	}
	g.path = client_socket_path(sflag, zflag);
	ret = gtctl_run_cmd(&g, c, argc - used, argv + used);
	client_free(g.client);
	free(g.path);
	return (ret);
}
