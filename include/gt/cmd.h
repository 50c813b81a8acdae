/* SPDX-License-Identifier: MIT */
/*
 * cmd: what the ops (cmd-*.c) are made of.  One request becomes one
 * struct cmd_ctx; its exec returns CMD_OK or CMD_ERROR (the reply goes
 * out at once) or CMD_WAIT (the command holds the context and calls
 * cmd_finish() later; replies behind it on the connection wait).
 * Exactly one reply per request.  The table and the dispatcher are
 * dispatch.c's; cmd.c has the helpers: argument checks, reply building,
 * waits on a child.
 *
 * Owns struct cmd_state (gtd->cmd) and every cmd_ctx.  Never: blocks,
 * writes to a connection other than through conn_reply, or is called by
 * the core (child, childlog, spawn, registry...): those report through
 * their observer, and a waiting request listens as a child_waiter.
 */
#ifndef GT_CMD_H
#define GT_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <ev.h>
#include <jansson.h>

#include "gt/child.h"

struct config_tpl;
struct conn;
struct proto_flat;
struct value;
struct gtd;

enum cmd_ret { CMD_OK, CMD_ERROR, CMD_WAIT };

struct cmd_ctx;
typedef enum cmd_ret	cmd_exec_fn(struct cmd_ctx *, json_t *args);

struct cmd_entry {
	const char	*name;		/* wire name */
	const char	*usage;		/* arguments, as in gtd-protocol(7) */
	int		 access;	/* enum acl_class it needs */
	int		 flags;
#define CMD_MUTATES	0x1		/* refused while shutting down */
#define CMD_FLAT	0x2		/* exec takes args == NULL: see below */
#define CMD_SPEC	0x4		/* args are a childspec plus keys */
	/*
	 * The arguments the op accepts, NULL-terminated: the dispatcher
	 * refuses any other (bad_request naming it) before exec runs.  For
	 * CMD_SPEC, the arguments besides a childspec: exec takes them out
	 * and the childspec parser refuses what is left over.
	 */
	const char *const *keys;
	cmd_exec_fn	*exec;
};

/* Sorted by name, NULL-terminated. */
extern const struct cmd_entry *const cmd_table[];

/*
 * One in-flight request.  Fields after `w` are scratch for commands.
 *
 * A flat request (proto_scan) to a CMD_FLAT command runs without a JSON
 * tree: exec gets args == NULL and reads its arguments only through the
 * cmd_arg_* helpers, which then read ctx->flat.  Those strings live only
 * until exec returns: a command that waits copies what it keeps.
 */
#define CMD_RAW_INLINE	80
struct cmd_ctx {
	struct gtd		*gtd;		/* weak */
	struct conn		*conn;		/* holds a ref */
	const struct cmd_entry	*entry;
	const struct proto_flat	*flat;		/* during exec, or NULL */
	json_t			*id;		/* owned, or NULL */
	/* Owned raw "id" text, or NULL. */
	char			*idraw;
	/* Owned result fields, or NULL. */
	json_t			*res;
	json_t			*res_ok;	/* owned: only if no error */
	const char		*err;		/* error code, or NULL */
	char			*msg;		/* owned error message */
	/* Result fields already in JSON text: ,"key":value ... */
	char			*raw;		/* rawbuf, or owned */
	size_t			 rawlen;
	size_t			 rawsize;
	char			 rawbuf[CMD_RAW_INLINE];

	struct child		*child;		/* ref held while waiting */
	struct child_waiter	 w;
	ev_timer		 timer;		/* timeout_ms */
	unsigned		 incarnation;	/* the start waited for */
	bool			 wait;
	void			(*timer_cb)(struct cmd_ctx *);
	/* Runs right after a successful reply is queued (subscribe). */
	void			(*after)(struct cmd_ctx *);
	bool			 over;		/* replaced: too big */
	void			*op;		/* the op's own: cmd_opdata */
	void			(*op_free)(void *);
	bool			 waiting;	/* in gtd's waiting list */
	/* Every op, sorted, NULL-terminated (dispatch.c's; for hello). */
	const struct cmd_entry *const *table;
	TAILQ_ENTRY(cmd_ctx)	 wentry;	/* in waiting */
	/* A wait of cmd-cluster.c, and what cmd_free calls to end it. */
	void			*xwait;
	void			(*xfree)(struct cmd_ctx *);
};

TAILQ_HEAD(cmd_list, cmd_ctx);

/*
 * What the command layer owns (cmd.c, dispatch.c), one per gtd: the
 * requests that wait, the reply being built, the flat parser's strings.
 */
struct cmd_state {
	struct cmd_list		 waiting;	/* in arrival order */
	char			*rbuf;		/* the reply being built */
	size_t			 rlen;
	size_t			 rsize;
	size_t			 rmax;		/* rlen may not pass it */
	bool			 rover;		/* the reply passed rmax */
	char			*scan;		/* flat request strings */
	size_t			 scansize;
	struct cmd_ctx		*spare_ctx;	/* one freed context */
};

struct cmd_state	*cmd_state_new(void);
/* After cmd_abandon_all: no request may be waiting. */
void			 cmd_state_free(struct cmd_state *);

const struct cmd_entry	*cmd_find(const char *);

/*
 * Handle one request line from conn: parse, look up, check, exec, and
 * reply now or (CMD_WAIT) later.
 */
void	cmd_dispatch(struct gtd *, struct conn *, const char *line,
	    size_t len);
/*
 * A new connection's peer is known: if it is a supervised child (not
 * root or gtd's user), its connections count against that row's slots.
 */
void	cmd_opened(struct gtd *, struct conn *);
/*
 * The supervised child the peer process is (or is in the session or
 * process group of) now, or NULL: never when that process is gone, so a
 * reused pid is never taken for the peer.  Borrowed.
 */
struct child	*cmd_peer_child(struct gtd *, struct conn *);

/* Result and error building. */
void	cmd_set(struct cmd_ctx *, const char *key, json_t *val); /* steals */
/* Result fields without a JSON value: an integer, a string, an attr. */
void	cmd_set_int(struct cmd_ctx *, const char *key, int64_t);
void	cmd_set_str(struct cmd_ctx *, const char *key, const char *);
void	cmd_set_value(struct cmd_ctx *, const char *key,
	    const struct value *);
/*
 * Raw result text, for results built row by row (list, which_children):
 * JSON text appended as it is after the other result fields, so it
 * starts with ,"key": (cmd_raw_text).  A string is escaped, a byte that
 * is not UTF-8 becomes U+FFFD.
 */
void	cmd_raw_text(struct cmd_ctx *, const char *json, size_t len);
void	cmd_raw_string(struct cmd_ctx *, const char *);
void	cmd_raw_int(struct cmd_ctx *, int64_t);
void	cmd_raw_value(struct cmd_ctx *, const struct value *);
/* v, or null when !set. */
void	cmd_raw_int_or_null(struct cmd_ctx *, bool set, int64_t v);
/*
 * The keys every row of which_children starts with, of either scope:
 * {"name":name, "node":node (none when NULL), "pid":pid (null when not
 * > 0), "state":state; the row stays open for the caller's keys and "}".
 */
void	cmd_raw_row_head(struct cmd_ctx *, const char *name,
	    const char *node, pid_t pid, const char *state);
/*
 * Has the result outgrown what the reply may take (conn_reply_max)?  Then
 * it is dropped, the reply becomes a limit error (max_output_bytes or
 * output_total), and the answer is true: the command stops building and
 * returns CMD_ERROR.  A result that passes the bound anyway (fields set
 * with cmd_set) is replaced the same way when the reply is sent.
 */
bool	cmd_reply_full(struct cmd_ctx *);
/* The longest reply the output caps allow now (conn_reply_max). */
size_t	cmd_reply_room(struct cmd_ctx *);
/* A result field sent only if the request succeeds (steals val). */
void	cmd_set_ok(struct cmd_ctx *, const char *key, json_t *val);
void	cmd_error(struct cmd_ctx *, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* bad_request naming the offending field. */
void	cmd_bad(struct cmd_ctx *, const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Argument checks; each fails with a bad_request naming the field.
 * cmd_args_known rejects keys not in the NULL-terminated list; the typed
 * getters leave *out alone when an optional key is absent and return 0,
 * or 1 when it is present and valid.  Strings are borrowed from args:
 * 1 to GT_NAME_MAX bytes, no NUL.  args NULL: the flat request.
 */
int	cmd_args_known(struct cmd_ctx *, json_t *args,
	    const char *const *keys);
int	cmd_arg_string(struct cmd_ctx *, json_t *args, const char *key,
	    bool required, const char **out);
int	cmd_arg_int(struct cmd_ctx *, json_t *args, const char *key,
	    int64_t lo, int64_t hi, int64_t *out);
int	cmd_arg_bool(struct cmd_ctx *, json_t *args, const char *key,
	    bool *out);

/* Send the reply of a CMD_WAIT request and free the context. */
void	cmd_finish(struct cmd_ctx *);

/*
 * For the dispatcher (dispatch.c) only: a context for one request on cn
 * (holds a ref on cn), its reply queued (the caps applied), its end.
 */
struct cmd_ctx	*cmd_new(struct gtd *, struct conn *);
void		 cmd_send(struct cmd_ctx *);
void		 cmd_free(struct cmd_ctx *);
/* The string argument key, if it is one; no checks, no error. */
const char	*cmd_arg_peek(struct cmd_ctx *, json_t *args, const char *key);
/*
 * Free every waiting request without a reply: its timer, its wait and
 * its connection ref go (gtd_free, before the connections; the loop is
 * not run again).
 */
void	cmd_abandon_all(struct gtd *);

/* Wait on c: cb runs at its next state change (see child_wait). */
void	cmd_wait_child(struct cmd_ctx *, struct child *, child_wake_cb *);
/* Arm a timeout; cb runs unless the request finished first. */
void	cmd_wait_timeout(struct cmd_ctx *, int64_t ms,
	    void (*cb)(struct cmd_ctx *));

/*
 * Shared by find_or_open, start_child, restart_child: reply with the pid
 * once c's current incarnation is running, or with the reason it failed
 * (spawn_failed, exited).  With !ctx->wait reply at once.
 */
enum cmd_ret	cmd_await_ready(struct cmd_ctx *, struct child *);
/*
 * The verdict on a start waited for (cmd_await_ready's, and any other
 * waiter's such as restart_children): wait on, ready, or failed (then
 * cmd_start_failed says why).  *incarnation is the one waited for at
 * first; it follows a restart_child force that makes a new one.
 */
enum cmd_ready { CMD_READY_WAIT, CMD_READY_OK, CMD_READY_FAILED };
enum cmd_ready	cmd_ready_check(struct child *, unsigned *incarnation);
/* Put c's start-failure error (spawn_failed/exited) into the reply. */
void		cmd_start_failed(struct cmd_ctx *, struct child *);

/* The active defaults and templates (NULL: none). */
const struct config_tpl	*cmd_tpl(struct cmd_ctx *);

/*
 * The op's own state for this request: size bytes, zeroed, kept until the
 * request is done (one per request).  dtor, if not NULL, frees what it
 * points to before it is freed.
 */
void	*cmd_opdata(struct cmd_ctx *, size_t size, void (*dtor)(void *));
/* A copy of s as the op's own state (cmd_opdata). */
const char	*cmd_opstr(struct cmd_ctx *, const char *s);

/* The child named by "name": the row, or NULL with the error set. */
struct child	*cmd_named(struct cmd_ctx *, json_t *args);
/* Fail with code, "NAME is STATE" and the row's state as context. */
void		 cmd_state_error(struct cmd_ctx *, const char *code,
		    struct child *);

/* Look up the child named by args "name", or reply not_found. */
struct child	*cmd_child(struct cmd_ctx *, const char *name);

/* The start-of-day childspec parse + add + start used by several ops. */
struct child	*cmd_child_new(struct cmd_ctx *, json_t *specobj);

/* The child named by "name" or "pid" (exactly one), or an error. */
struct child	*cmd_target(struct cmd_ctx *, json_t *args);
/* All attrs of name as a new JSON object. */
json_t		*cmd_attrs_json(struct cmd_ctx *, const char *name);
/* Are c's attrs writable (starting/running)?  Else not_running. */
bool		 cmd_attrs_live(struct cmd_ctx *, struct child *);
/* Set "pid" to c's pid, or null. */
void		 cmd_pid(struct cmd_ctx *, struct child *);

/*
 * The cluster (cmd-cluster.c, protocol §9.3).  cmd_cluster_node: "node"
 * on a reply about c when c is of scope cluster.  cmd_cluster_find and
 * cmd_cluster_info: the answer from the mirror for a name with no local
 * row, true when it is a cluster name (*r set), false: not one (the
 * caller goes on).  cmd_cluster_start: start_child or find_or_open
 * (open) of a cluster-scope spec (the request's) with no local row: the
 * name is claimed first, then local(ctx) goes on as for a
 * local row; held by another node: that node's child (find_or_open
 * waits while it is starting), or already_started.
 */
void		 cmd_cluster_node(struct cmd_ctx *, const struct child *);
bool		 cmd_cluster_find(struct cmd_ctx *, const char *name,
		    enum cmd_ret *r);
bool		 cmd_cluster_info(struct cmd_ctx *, const char *name,
		    enum cmd_ret *r);
/* which_children "scope": "cluster": every mirror row (of state st). */
enum cmd_ret	 cmd_cluster_which(struct cmd_ctx *, const char *st);
enum cmd_ret	 cmd_cluster_start(struct cmd_ctx *, const char *name,
		    json_t *spec, bool failover, bool open, int64_t timeout_ms,
		    enum cmd_ret (*local)(struct cmd_ctx *));
/* The request's childspec of cmd_cluster_start (borrowed). */
json_t		*cmd_cluster_spec(struct cmd_ctx *);

/* terminate_child and terminate_and_delete (delete = remove the row). */
enum cmd_ret	 cmd_terminate(struct cmd_ctx *, json_t *args, bool delete);

/* rss bytes and cpu ms of a process from /proc.  0, or -1. */
int		 cmd_proc_usage(pid_t, int64_t *rss, int64_t *cpu_ms);
/* hello's and stats' "cgroup" and "cgroup_off" (cmd-stats.c). */
void		 cmd_cgroup(struct cmd_ctx *);

#endif /* GT_CMD_H */
