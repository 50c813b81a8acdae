/* SPDX-License-Identifier: MIT */
/*
 * gtctl: the command-line client of gtd.  argv becomes protocol requests
 * (built with jansson), client.c carries them, and the replies become
 * text for people (or are passed through with --json) and an exit
 * status.  One table entry per command; most commands differ only in
 * their wire op and their printer.  A word that is neither a command nor
 * close to one is sent as an op of its own, so a new gtd op works before
 * gtctl knows it; a word close to a command is a typo, caught here.
 * This file: main, the table, help and argument parsing; the requests
 * and the exchange with gtd, which every command file uses, are in
 * gtctl-core.c.  Printing is in gtctl-out.c, commands on several
 * children in gtctl-many.c, logs and events in gtctl-logs.c.  Only
 * main's table calls the command files; they call gtctl-core.c.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "gt/client.h"
#include "gt/gtctl-text.h"
#include "gt/gtctl.h"
#include "gt/protocol.h"
#include "gt/xmalloc.h"

#define GTCTL_USAGE \
    "usage: gtctl [-hV] [--json] [--color=when] [-s socket] [-z zone] " \
    "[-t timeout_ms]\n             command [arg ...]"

static void	gtctl_usage(void) __attribute__((noreturn));
static void	gtctl_help(void);
static void	gtctl_cmd_help(const struct gtctl_cmd *);
static bool	gtctl_is_group(const char *);
static int	gtctl_group_help(const char *, bool);
static bool	gtctl_is_op(const char *);
static const char *gtctl_suggest(const char *);
static int	gtctl_unknown(const char *, const char *);
static const struct gtctl_cmd *gtctl_cmd_find(int, char **, int *);
static int	gtctl_resolve(int, char **, const struct gtctl_cmd **,
		    int *);
static int	gtctl_parse(const struct gtctl_cmd *, int, char **,
		    struct gtctl_args *);
static int	gtctl_parse_opt(const struct gtctl_cmd *, struct gtctl_args *,
		    char **, int *);
static int	gtctl_check_args(const struct gtctl_cmd *,
		    struct gtctl_args *);
static int	gtctl_run_cmd(struct gtctl *, const struct gtctl_cmd *, int,
		    char **);


static gtctl_exec_fn	gtctl_exec_ls, gtctl_exec_list,
			gtctl_exec_rm, gtctl_exec_raw, gtctl_exec_attr_get,
			gtctl_exec_attr_set, gtctl_exec_attr_del,
			gtctl_exec_kill, gtctl_exec_attr_incr, gtctl_exec_query,
			gtctl_exec_reload, gtctl_exec_help,
			gtctl_exec_reexec;
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
	{ .name = "tree" },
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
static const struct gtctl_opt gtctl_opts_restart[] = {
	{ .name = "rolling" },
	{ .name = "max-unavailable", .has_arg = true },
	{ .name = "timeout-ms", .has_arg = true },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_reload[] = {
	{ .name = "dry-run", .letter = 'n' },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_reexec[] = {
	{ .name = "path", .has_arg = true },
	{ .name = NULL }
};
static const struct gtctl_opt gtctl_opts_help[] = {
	{ .name = "commands" },
	{ .name = "ops" },
	{ .name = "options", .has_arg = true },
	{ .name = NULL }
};

/* The commands, in the order of gtctl -h and gtctl(1). */
static const struct gtctl_cmd gtctl_cmds[] = {
	{ .name = "help", .usage = "[command]",
	  .help = "explain a command (works without gtd)",
	  .flags = GTCTL_LOCAL, .maxpos = 2, .opts = gtctl_opts_help,
	  .exec = gtctl_exec_help },
	{ .name = "ping", .op = "ping", .usage = "",
	  .help = "check that gtd answers; prints pong",
	  .print = gtctl_print_pong },
	{ .name = "hello", .alias = "version", .op = "hello", .usage = "",
	  .help = "show the version, protocol, zone, pid and ops of gtd",
	  .print = gtctl_print_fields },
	{ .name = "ls", .alias = "status", .op = "which_children",
	  .usage = "[-a] [--state state] [target ...]\n"
	  "       gtctl ls --tree",
	  .help = "list children: NAME STATE PID UPTIME RESTARTS [GROUP]",
	  .maxpos = -1, .opts = gtctl_opts_ls, .exec = gtctl_exec_ls,
	  .print = gtctl_print_ls },
	{ .name = "list", .op = "list", .usage = "[key ...]", .maxpos = -1,
	  .help = "list running children with their attrs",
	  .exec = gtctl_exec_list, .print = gtctl_print_list },
	{ .name = "find", .op = "find", .usage = "name",
	  .help = "print the pid of a running child",
	  .flags = GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_pid },
	{ .name = "open", .op = "find_or_open",
	  .usage = "[--nowait] name [key=value ...] [-- cmd [arg ...]]",
	  .help = "find a running child or start it; prints its pid",
	  .flags = GTCTL_WAITS | GTCTL_ARGV | GTCTL_NAME, .maxpos = -1,
	  .opts = gtctl_opts_open, .print = gtctl_print_pid },
	{ .name = "start", .op = "start_child",
	  .usage = "[--nowait] name [key=value ...] [-- cmd [arg ...]]\n"
	  "       gtctl start target ...",
	  .help = "start a new child (prints its pid), or stopped ones",
	  .flags = GTCTL_WAITS | GTCTL_ARGV | GTCTL_NAME, .maxpos = -1,
	  .opts = gtctl_opts_open, .exec = gtctl_exec_start,
	  .print = gtctl_print_pid },
	{ .name = "stop", .op = "terminate_child",
	  .usage = "{target ... | --pid pid} [timeout_ms=N]",
	  .help = "stop children and wait for them; prints how they ended",
	  .flags = GTCTL_WAITS | GTCTL_NAME, .maxpos = -1,
	  .opts = gtctl_opts_stop, .exec = gtctl_exec_stop,
	  .print = gtctl_print_reason },
	{ .name = "restart", .op = "restart_child", .usage = "target ...\n"
	  "       gtctl restart --rolling [--max-unavailable N] "
	  "[--timeout-ms MS] template | target ...",
	  .help = "stop children if they run and start them again",
	  .flags = GTCTL_WAITS | GTCTL_NAME, .minpos = 1, .maxpos = -1,
	  .opts = gtctl_opts_restart, .exec = gtctl_exec_restart_cmd,
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
	{ .name = "logs", .op = "logs", .usage = "[-f] [-n lines] [target ...]",
	  .help = "print what children wrote, by time (-f: and follow)",
	  .maxpos = -1, .opts = gtctl_opts_logs, .exec = gtctl_exec_logs,
	  .print = gtctl_print_none },
	{ .name = "events", .op = "subscribe",
	  .usage = "[--since seq] [name ...]",
	  .help = "print events as they happen (all children, or these)",
	  .flags = GTCTL_WAITS, .maxpos = -1, .opts = gtctl_opts_events,
	  .exec = gtctl_exec_events, .print = gtctl_print_none },
	{ .name = "info", .op = "info", .usage = "name",
	  .help = "show everything gtd knows about a child",
	  .flags = GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_fields },
	{ .name = "attrs", .op = "info", .usage = "name",
	  .help = "show the attrs of a child",
	  .flags = GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_attrs },
	{ .name = "why", .op = "why", .usage = "name",
	  .help = "say what a child waits for (its unmet depends_on)",
	  .flags = GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_why },
	{ .name = "spec", .op = "get_childspec", .usage = "name",
	  .help = "print the normalised childspec of a child",
	  .flags = GTCTL_NAME, .minpos = 1, .maxpos = 1,
	  .print = gtctl_print_spec },
	{ .name = "check", .op = "check_childspec",
	  .usage = "[name] [key=value ...] [-- cmd [arg ...]]",
	  .help = "validate a childspec; prints it normalised",
	  .flags = GTCTL_ARGV, .maxpos = -1, .print = gtctl_print_spec },
	{ .name = "attr get", .op = "getattr",
	  .usage = "[--wait ms] name key",
	  .help = "print the value of an attr",
	  .minpos = 2, .maxpos = 2,
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
	{ .name = "cluster", .op = "cluster_status", .usage = "",
	  .help = "show the cluster: this node, its lease, the live nodes",
	  .print = gtctl_print_cluster },
	{ .name = "reload", .op = "reload", .usage = "[-n | --dry-run]\n"
	  "       gtctl reload name",
	  .help = "apply the config file again, or (name) ask a child to "
	  "reload",
	  .maxpos = 1, .opts = gtctl_opts_reload, .exec = gtctl_exec_reload,
	  .print = gtctl_print_reload },
	{ .name = "reexec", .op = "reexec", .usage = "[--path bin]",
	  .help = "replace gtd's program in place (upgrade); children stay",
	  .flags = GTCTL_WAITS, .opts = gtctl_opts_reexec,
	  .exec = gtctl_exec_reexec, .print = gtctl_print_fields },
	{ .name = "shutdown", .op = "shutdown", .usage = "[timeout_ms=N]",
	  .help = "stop every child and make gtd exit",
	  .maxpos = 1, .print = gtctl_print_none },
	{ .name = "raw", .op = NULL, .usage = "[json ...]",
	  .help = "send request lines (or stdin) as they are; print replies",
	  .flags = GTCTL_WAITS, .maxpos = -1, .exec = gtctl_exec_raw },
	{ .name = NULL }
};

/*
 * The ops of gtd's command table (gtd-protocol(7)), which may be typed as
 * commands; the e2e suite checks that this list equals hello's "ops".
 */
static const char *const gtctl_ops[] = {
	"add_existing_child", "check_childspec", "cluster_status",
	"count_children", "delattr",
	"delete_child", "find", "find_or_open", "get_childspec", "getattr",
	"hello", "increment", "info", "list", "logs", "ping", "query",
	"reexec", "release", "reload", "reload_child", "restart_child",
	"restart_children", "setattr", "shutdown", "signal",
	"start_child", "stats", "subscribe", "terminate_and_delete",
	"terminate_child", "which_children", "why", NULL
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
		xasprintf(&s, "%s%s%.*s", c->name, *c->usage ? " " : "",
		    (int)strcspn(c->usage, "\n"), c->usage);
		/* Long usages get the help text on a line of its own. */
		if (strlen(s) < 30)
			printf("  %-30s %s\n", s, c->help);
		else
			printf("  %s\n%33s%s\n", s, "", c->help);
		free(s);
	}
	printf("  op %s\n%33s%s\n", gtctl_cmd_any.usage, "",
	    gtctl_cmd_any.help);
	printf("\nA target is a name, \"all\", a glob such as 'web-*' or a "
	    "template name.\n"
	    "\"gtctl help command\" explains a command.  See gtctl(1).\n");
}

static void
gtctl_cmd_help(const struct gtctl_cmd *c)
{
	const struct gtctl_opt	*o;

	printf("usage: gtctl %s%s%s\n%s", c->name, *c->usage ? " " : "",
	    c->usage, c->help);
	if (c->op != NULL)
		printf(" (op %s)", c->op);
	printf("\n");
	if (c->alias != NULL)
		printf("also: gtctl %s\n", c->alias);
	for (o = c->opts; o != NULL && o->name != NULL; o++) {
		if (o->letter != 0)
			printf("  -%c, --%s%s\n", o->letter, o->name,
			    o->has_arg ? " value" : "");
		else
			printf("  --%s%s\n", o->name, o->has_arg ? " value" :
			    "");
	}
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

static bool
gtctl_is_op(const char *word)
{
	const char *const	*op;

	for (op = gtctl_ops; *op != NULL; op++)
		if (strcmp(*op, word) == 0)
			return (true);
	return (false);
}

/*
 * The command (or alias, or op) that word is most likely a typo of, or
 * NULL.  Two-word commands are matched as typed ("attr gte").
 */
static const char *
gtctl_suggest(const char *word)
{
	static char		 group[32];
	const struct gtctl_cmd	*c;
	const char *const	*op;
	const char		*best = NULL;
	size_t			 n;
	int			 d, bestd = INT_MAX;

	for (c = gtctl_cmds; c->name != NULL; c++) {
		if (gtctl_is_typo(word, c->name) &&
		    (d = gtctl_distance(word, c->name, 8)) < bestd) {
			best = c->name;
			bestd = d;
		}
		/* The group word of a two-word command ("attr"). */
		n = strcspn(c->name, " ");
		if (c->name[n] == ' ' && n < sizeof group &&
		    strncmp(word, c->name, n + 1) != 0) {
			memcpy(group, c->name, n);
			group[n] = '\0';
			if (gtctl_is_typo(word, group) &&
			    (d = gtctl_distance(word, group, 8)) < bestd) {
				best = group;
				bestd = d;
			}
		}
		if (c->alias != NULL && gtctl_is_typo(word, c->alias) &&
		    (d = gtctl_distance(word, c->alias, 8)) < bestd) {
			best = c->alias;
			bestd = d;
		}
	}
	for (op = gtctl_ops; best == NULL && *op != NULL; op++)
		if (gtctl_is_typo(word, *op))
			best = *op;
	return (best);
}

/* "unknown command 'lss' — did you mean 'ls'?"; EX_USAGE. */
static int
gtctl_unknown(const char *word, const char *suggestion)
{
	char	*w = gtctl_esc(word, strlen(word));

	if (suggestion != NULL)
		fprintf(stderr, "gtctl: unknown command '%s' \xe2\x80\x94 did "
		    "you mean '%s'?\n", w, suggestion);
	else
		fprintf(stderr, "gtctl: unknown command '%s' (see gtctl "
		    "help)\n", w);
	free(w);
	return (EX_USAGE);
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

const struct gtctl_cmd *
gtctl_cmd_lookup(const char *name)
{
	const struct gtctl_cmd	*c;

	for (c = gtctl_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0 ||
		    (c->alias != NULL && strcmp(c->alias, name) == 0))
			return (c);
	return (NULL);
}

/*
 * The command of argv: 0 with *cp (NULL: an op to send by name), or an
 * exit status for a group word alone (its help) or a typo.
 */
static int
gtctl_resolve(int argc, char **argv, const struct gtctl_cmd **cp, int *used)
{
	char		*two;
	const char	*s;
	int		 ret;

	if ((*cp = gtctl_cmd_find(argc, argv, used)) != NULL)
		return (0);
	*used = 1;
	if (gtctl_is_group(argv[0])) {
		if (argc > 1 && argv[1][0] != '-') {
			xasprintf(&two, "%s %s", argv[0], argv[1]);
			ret = gtctl_unknown(two, gtctl_suggest(two));
			free(two);
			return (ret);
		}
		return (gtctl_group_help(argv[0], argc > 1 &&
		    (strcmp(argv[1], "-h") == 0 ||
		    strcmp(argv[1], "--help") == 0)));
	}
	if (!gtctl_is_op(argv[0]) && (s = gtctl_suggest(argv[0])) != NULL)
		return (gtctl_unknown(argv[0], s));
	return (0);
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
	if (strncmp(arg, "--color", 7) == 0 && (arg[7] == '\0' ||
	    arg[7] == '=')) {
		a->color = arg[7] == '=' ? arg + 8 : "always";
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
	assert(k < GTCTL_NOPTS);
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

/*
 * help [command]: the summary, or one command's usage and options,
 * without gtd.  --commands, --ops and --options CMD print word lists for
 * completion scripts, one a line.
 */
static int
gtctl_exec_help(struct gtctl *g, struct gtctl_args *a)
{
	const struct gtctl_cmd	*c;
	const struct gtctl_opt	*o;
	const char *const	*op;
	const char		*v;
	int			 used;

	if (gtctl_optval(g, a, "commands") != NULL) {
		for (c = gtctl_cmds; c->name != NULL; c++)
			printf("%s\n%s%s", c->name, c->alias != NULL ?
			    c->alias : "", c->alias != NULL ? "\n" : "");
		return (0);
	}
	if (gtctl_optval(g, a, "ops") != NULL) {
		for (op = gtctl_ops; *op != NULL; op++)
			printf("%s\n", *op);
		return (0);
	}
	if ((v = gtctl_optval(g, a, "options")) != NULL) {
		if ((c = gtctl_cmd_lookup(v)) == NULL)
			return (gtctl_unknown(v, gtctl_suggest(v)));
		printf("--help\n--json\n--color\n");
		for (o = c->opts; o != NULL && o->name != NULL; o++) {
			printf("--%s\n", o->name);
			if (o->letter != 0)
				printf("-%c\n", o->letter);
		}
		return (0);
	}
	if (a->npos == 0) {
		gtctl_help();
		return (0);
	}
	if ((c = gtctl_cmd_find(a->npos, a->pos, &used)) == NULL) {
		if (gtctl_is_group(a->pos[0]) && a->npos == 1)
			return (gtctl_group_help(a->pos[0], true));
		if (gtctl_is_op(a->pos[0])) {
			printf("%s is an op of gtd, sent by name: gtctl %s %s\n"
			    "see gtd-protocol(7)\n", a->pos[0], a->pos[0],
			    gtctl_cmd_any.usage);
			return (0);
		}
		return (gtctl_unknown(a->pos[0], gtctl_suggest(a->pos[0])));
	}
	gtctl_cmd_help(c);
	return (0);
}

/* Keep the rows in state (a new array; rows is consumed). */
static json_t *
gtctl_rows_in_state(json_t *rows, const char *state)
{
	json_t		*keep = json_array(), *r;
	const char	*s;
	size_t		 i;

	json_array_foreach(rows, i, r) {
		s = json_string_value(json_object_get(r, "state"));
		if (s != NULL && strcmp(s, state) == 0)
			json_array_append(keep, r);
	}
	json_decref(rows);
	return (keep);
}

/* ls [target ...]: which_children, or the rows the targets match. */
static int
gtctl_exec_ls(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*reply, *rows;
	const char	*v;
	int		 ret;

	char		*line;

	g->wide = gtctl_optval(g, a, "all") != NULL;
	if (gtctl_optval(g, a, "tree") != NULL)
		return (gtctl_exec_ls_tree(g, a));
	if (a->npos == 0)
		return (gtctl_exec_generic(g, a));
	if ((ret = gtctl_expand(g, a->pos, a->npos, &rows)) != 0)
		return (ret);
	if ((v = gtctl_optval(g, a, "state")) != NULL)
		rows = gtctl_rows_in_state(rows, v);
	reply = json_pack("{s:b, s:o}", "ok", true, "children", rows);
	if (g->json) {
		line = gtctl_dump(reply, JSON_COMPACT);
		gtctl_print_json_line(line, strlen(line));
		free(line);
	} else
		ret = gtctl_print_ls(g, reply);
	json_decref(reply);
	return (ret);
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
 * reload [--dry-run]: the reply says what was (or would be) done.
 * reload NAME: reload_child, that child's reload_signal; prints nothing.
 */
static int
gtctl_exec_reload(struct gtctl *g, struct gtctl_args *a)
{
	json_t	*req, *reply;
	int	 ret;

	if (a->npos == 1) {
		if (gtctl_optval(g, a, "dry-run") != NULL)
			return (gtctl_bad_usage(g->cmd, "--dry-run is for the "
			    "config, not for a child"));
		g->name = a->pos[0];
		req = gtctl_request(g, "reload_child");
		gtctl_set(g, req, "name", json_string(a->pos[0]));
		if ((ret = gtctl_call(g, req, &reply)) == 0)
			json_decref(reply);
		return (ret);
	}
	req = gtctl_request(g, g->cmd->op);

	if (gtctl_optval(g, a, "dry-run") != NULL) {
		gtctl_set(g, req, "dry_run", json_true());
		g->dry_run = true;
	}
	return (gtctl_run(g, req));
}

/* reexec: a relative --path is made absolute here (gtd runs in "/"). */
static int
gtctl_exec_reexec(struct gtctl *g, struct gtctl_args *a)
{
	json_t		*req = gtctl_request(g, g->cmd->op);
	const char	*path = gtctl_optval(g, a, "path");
	char		*abs = NULL;

	if (path != NULL && *path != '/' && (abs = realpath(path, NULL)) !=
	    NULL)
		path = abs;
	if (path != NULL)
		gtctl_set(g, req, "path", json_string(path));
	free(abs);
	return (gtctl_run(g, req));
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

/* Send one line verbatim and print the reply line (made safe). */
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
	if (strlen(line) != len)
		return (gtctl_bad_usage(g->cmd,
		    "a request holds no NUL byte"));
	if ((ret = gtctl_exchange(g, line, len, &r, &rlen)) != 0)
		return (ret);
	gtctl_print_json_line(r, rlen);
	if ((ret = gtctl_parse_reply(r, rlen, &reply)) != 0)
		return (ret);
	if (json_is_false(json_object_get(reply, "ok")))
		ret = gtctl_refused(g, reply, NULL);
	json_decref(reply);
	return (ret);
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
	if (a.color != NULL)
		gtctl_color_init(g, a.color);
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
		{ "color", optional_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct gtctl			 g = { .timeout_ms = -1 };
	struct gtctl_cmd		 any;
	const struct gtctl_cmd		*c;
	const char			*sflag = NULL, *zflag = NULL;
	const char			*color = "auto";
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
		case 'C':
			color = optarg != NULL ? optarg : "always";
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
	gtctl_color_init(&g, color);
	if ((ret = gtctl_resolve(argc, argv, &c, &used)) != 0)
		return (ret);
	if (c == NULL) {
		any = gtctl_cmd_any;
		any.name = any.op = argv[0];
		c = &any;
		g.forwarded = !gtctl_is_op(argv[0]);
	}
	g.word = argv[0];
	if (!(c->flags & GTCTL_LOCAL))
		g.path = client_user_path(sflag, zflag);
	ret = gtctl_run_cmd(&g, c, argc - used, argv + used);
	gtctl_conn_free(g.client);
	free(g.path);
	return (ret);
}
