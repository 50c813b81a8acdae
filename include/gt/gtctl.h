/* SPDX-License-Identifier: MIT */
/*
 * gtctl: what the files of the command-line client share (gtctl.c: the
 * command table, argument parsing and the exchange with gtd;
 * gtctl-out.c: text for people; gtctl-many.c: commands on several
 * children; gtctl-logs.c: logs and events).  Not part of gtd.
 *
 * Exit statuses (gtctl(1) EXIT STATUS): 0 ok; 1 gtd refused; 3 no such
 * child or it has no process (not_found, not_running), for every
 * command; 64 usage; 69 no gtd; 76 a reply that is not the protocol.
 */
#ifndef GT_GTCTL_H
#define GT_GTCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define GTCTL_EXIT_REFUSED	1	/* gtd answered "ok":false */
#define GTCTL_EXIT_ABSENT	3	/* not_found or not_running */
#define GTCTL_TIMEOUT_MS	10000	/* default -t for ops that never wait */
#define GTCTL_NOPTS		4	/* options of one command, at most */

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
	const char	 *color;		/* --color[=when] after it */
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
#define GTCTL_ARGV	0x4	/* takes "-- cmd [arg ...]" */
#define GTCTL_NAME	0x8	/* a name is required */
#define GTCTL_LOCAL	0x10	/* never talks to gtd */
	int			 minpos;
	int			 maxpos;	/* -1: no limit */
	const struct gtctl_opt	*opts;		/* NULL-terminated, or NULL */
	gtctl_exec_fn		*exec;		/* NULL: gtctl_exec_generic */
	gtctl_print_fn		*print;
};

/*
 * One run of gtctl.  Owns path, client and the lazily made connection.
 * word is the command as typed (argv, borrowed).
 */
struct gtctl {
	char			*path;
	struct gtctl_conn	*client;
	const struct gtctl_cmd	*cmd;
	const char		*word;
	int			 timeout_ms;	/* -1: -t not given */
	bool			 json;
	bool			 waits;		/* this request may wait */
	bool			 wide;		/* ls -a */
	bool			 bad_utf8;	/* jansson refused an arg */
	bool			 color;		/* SGR sequences on stdout */
	bool			 color_err;	/* ... and on stderr */
	bool			 forwarded;	/* word sent as an unknown op */
	bool			 dry_run;	/* reload --dry-run */
	const char		*name;		/* the child, for messages */
	const char		*stop_signal;	/* its spec's, for reasons */
};

/* A connection to gtd (gtctl-conn.c): a libgtd handle and its last reply. */
struct gtd_handle;
struct gtctl_conn {
	struct gtd_handle	*h;		/* owned */
	char			*line;		/* owned: the last reply */
};

/*
 * gtctl-conn.c.  Connect to the socket at path, checking the server's
 * user (libgtd(3) gtd_connect); NULL with errno and *cause (xmalloc'd,
 * "path: why") on failure.
 */
struct gtctl_conn *gtctl_conn_new(const char *path, char **cause);
void		 gtctl_conn_free(struct gtctl_conn *);
/* Send one request line (no newline); 0, or -1 with errno. */
int		 gtctl_conn_send(struct gtctl_conn *, const char *line);
/*
 * The next line from gtd (borrowed until the next call on c), waiting at
 * most timeout_ms (-1: for ever; 0: only what has arrived).  NULL with
 * errno: ETIMEDOUT (nothing in time; with 0 the connection stays),
 * ECONNRESET (gtd closed it), or another.
 */
const char	*gtctl_conn_recv(struct gtctl_conn *, int timeout_ms,
		    size_t *lenp);
/* The descriptor to poll(2) and the events to wait for (gtd_fd). */
int		 gtctl_conn_fd(struct gtctl_conn *, short *events);

/* Colours (SGR parameters), used through gtctl_sgr. */
#define GTCTL_C_BOLD	"1"
#define GTCTL_C_DIM	"2"
#define GTCTL_C_RED	"31"
#define GTCTL_C_GREEN	"32"
#define GTCTL_C_YELLOW	"33"
#define GTCTL_C_BLUE	"34"
#define GTCTL_C_MAGENTA	"35"
#define GTCTL_C_CYAN	"36"

/* A text table with aligned columns; owns its cells. */
#define GTCTL_TABLE_MAXCOL	8
struct gtctl_table {
	size_t		  ncol;			/* cells in a row */
	size_t		  nshow;		/* columns printed */
	size_t		  nrow;
	char		**cell;			/* escaped text */
	const char	**sgr;			/* colour of a cell, or NULL */
};

/* gtctl.c: the table, requests and the exchange with gtd. */
const struct gtctl_cmd *gtctl_cmd_lookup(const char *name);
/* Report a usage error for the current command; EX_USAGE. */
int		 gtctl_bad_usage(const struct gtctl_cmd *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* The value of --name of the current command, or NULL. */
const char	*gtctl_optval(const struct gtctl *, struct gtctl_args *,
		    const char *name);
/* A decimal integer argument; 0, or EX_USAGE with a message. */
int		 gtctl_int(const char *what, const char *s, json_int_t *);
/* Set obj[key] = v (stolen); bad UTF-8 is noted in g. */
void		 gtctl_set(struct gtctl *, json_t *, const char *, json_t *);
/* A command-line value: JSON if it parses as JSON, else a string. */
json_t		*gtctl_value(const char *);
/*
 * Send line, connect first if need be, and wait for one reply line
 * (borrowed until the next call).  0, or EX_UNAVAILABLE with a message.
 */
int		 gtctl_exchange(struct gtctl *, const char *, size_t,
		    const char **rp, size_t *rlenp);
/* Add key=value words to req; EX_USAGE for a word without '='. */
int		 gtctl_add_kv(struct gtctl *, json_t *req, char **, int);
/*
 * The request of most commands into *reqp (owned by the caller, even on
 * an error): op, the name, the options that map to arguments, key=value
 * words, "cmd".  0, or an exit status after a message.
 */
int		 gtctl_build(struct gtctl *, struct gtctl_args *, const char *op,
		    json_t **reqp);
/* The request of most commands (gtctl_build) sent and printed. */
gtctl_exec_fn	 gtctl_exec_generic;
/* A JSON array of strings; bad UTF-8 is noted in g. */
json_t		*gtctl_strings(struct gtctl *, char **, int);
/* A new request {"op": op}. */
json_t		*gtctl_request(struct gtctl *, const char *op);
/* A new connection to gtd (owned), or NULL after a message. */
struct gtctl_conn *gtctl_open(const struct gtctl *);
/* Connect if not yet; 0, or EX_UNAVAILABLE with a message. */
int		 gtctl_connect(struct gtctl *);
/* The reply wait of the current command in ms (-1: for ever). */
int		 gtctl_timeout(const struct gtctl *);
/* Report a failed read of a reply (errno); EX_UNAVAILABLE. */
int		 gtctl_lost(const struct gtctl *, bool sent, int timeout);
/*
 * Decode a reply line into *replyp (owned by the caller): 0, or
 * EX_PROTOCOL with a message when it is not an object with boolean "ok".
 */
int		 gtctl_parse_reply(const char *, size_t, json_t **replyp);
/*
 * Send req (consumed) and read its reply: 0 with the "ok":true reply in
 * *replyp (owned by the caller), or an exit status after reporting the
 * refusal (--json: the line is printed first, as it is).
 */
int		 gtctl_call(struct gtctl *, json_t *req, json_t **replyp);
/*
 * Like gtctl_call, but any well-formed reply, "ok" or not, comes back in
 * *replyp (0) and nothing is reported: the caller decides.
 */
int		 gtctl_call_any(struct gtctl *, json_t *req, json_t **replyp);
/* gtctl_call without printing the reply line for --json. */
int		 gtctl_call_quiet(struct gtctl *, json_t *req, json_t **replyp);
/* gtctl_call, then print the reply the command's way. */
int		 gtctl_run(struct gtctl *, json_t *req);
/*
 * Encode req (consumed) as a line; NULL (after a message) when an
 * argument was not UTF-8.  The caller frees the line.
 */
char		*gtctl_encode(struct gtctl *, json_t *req);

/* gtctl-out.c: text for people. */
void		 gtctl_color_init(struct gtctl *, const char *when);
/* "\033[Xm" when colour is on (stdout: err false), else "". */
const char	*gtctl_sgr(const struct gtctl *, bool err, const char *code);
const char	*gtctl_sgr_off(const struct gtctl *, bool err);
/* The colour of a state name ("running": green, ...), or NULL. */
const char	*gtctl_state_color(const char *state);
/* A colour for a name, the same for the same name. */
const char	*gtctl_name_color(const char *name);
/* A JSON value as safe text: strings bare, null "-", else JSON. */
char		*gtctl_str(json_t *);
/* The same, with *_at and "at" times as local time. */
char		*gtctl_str_key(const char *key, json_t *);
/* A string member, escaped ("-" when absent); xmalloc'd. */
char		*gtctl_member(json_t *, const char *key);
/* Epoch milliseconds as "2024-05-01 12:00:00.123" local time. */
char		*gtctl_time(json_int_t ms);
/*
 * JSON as text for people (xmalloc'd; NULL on failure): the one place
 * where gtctl prints a JSON value of a reply.
 */
char		*gtctl_dump(json_t *, size_t flags);
/* The time now in epoch milliseconds. */
int64_t		 gtctl_now_ms(void);
void		 gtctl_table_add(struct gtctl_table *, ...);
void		 gtctl_table_color(struct gtctl_table *, size_t col,
		    const char *sgr);
void		 gtctl_table_print(struct gtctl *, struct gtctl_table *);
/* Print line (len bytes of JSON from gtd) made safe, and a newline. */
void		 gtctl_print_json_line(const char *line, size_t len);
/*
 * Report an "ok":false reply on stderr ("gtctl: code: message (field:
 * x)" and a hint where one helps); prefix (may be NULL) names the child
 * in a command on several.  Returns the exit status it means.
 */
int		 gtctl_refused(const struct gtctl *, json_t *reply,
		    const char *prefix);
/* The exit status of an error code. */
int		 gtctl_exit_code(const char *code);
int		 gtctl_malformed(const char *why);
/* How a stop ended, for people (see gtctl_print_reason); xmalloc'd. */
char		*gtctl_reason_text(json_t *reason, const char *first_signal);

gtctl_print_fn	gtctl_print_none, gtctl_print_pong, gtctl_print_pid,
		gtctl_print_fields, gtctl_print_spec, gtctl_print_reason,
		gtctl_print_value, gtctl_print_attrs, gtctl_print_ls,
		gtctl_print_list, gtctl_print_query, gtctl_print_reload,
		gtctl_print_why;
/* gtctl-cluster.c: gtctl cluster. */
gtctl_print_fn	gtctl_print_cluster;

/* gtctl-many.c: start, stop and restart of one child or several. */
gtctl_exec_fn	gtctl_exec_start, gtctl_exec_stop, gtctl_exec_restart;
/* gtctl-tree.c: ls --tree, the depends_on graph. */
gtctl_exec_fn	gtctl_exec_ls_tree;
/* gtctl-roll.c: restart, and restart --rolling (restart_children). */
gtctl_exec_fn	gtctl_exec_restart_cmd;
/*
 * The rows of which_children whose names match the words (a name,
 * "all", a glob or a template name; see gtctl(1)), in the order of
 * which_children, each at most once.  *rowsp gets a new array (owned by
 * the caller).  0, or an exit status after a message (a word that
 * matches nothing is an error only when strict).
 */
int		 gtctl_expand(struct gtctl *, char **words, int nwords,
		    json_t **rowsp);

/* gtctl-logs.c: logs and events. */
gtctl_exec_fn	gtctl_exec_logs, gtctl_exec_events;

#endif /* GT_GTCTL_H */
