/* SPDX-License-Identifier: MIT */
/*
 * spec: struct childspec, what gtd knows about how to run one child, and
 * struct value, one attr value.  Pure: no I/O, no JSON, never logs.
 * JSON <-> childspec conversion lives in config.c.
 */
#ifndef GT_SPEC_H
#define GT_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gt/cglimits.h"

enum spec_restart { SPEC_PERMANENT, SPEC_TRANSIENT, SPEC_TEMPORARY };
enum spec_type { SPEC_WORKER, SPEC_SUPERVISOR };
enum spec_shutdown { SPEC_SHUT_SIGNAL, SPEC_SHUT_BRUTAL, SPEC_SHUT_INFINITY };
enum spec_give_up { SPEC_GIVE_UP_STOP, SPEC_GIVE_UP_DELETE, SPEC_GIVE_UP_EXIT };
enum spec_ready { SPEC_READY_EXEC, SPEC_READY_NOTIFY, SPEC_READY_FD,
	SPEC_READY_HEALTHY };
enum spec_action {
	SPEC_ACT_RESTART, SPEC_ACT_STOP, SPEC_ACT_DELETE, SPEC_ACT_EXIT
};

enum spec_out { SPEC_OUT_LOG, SPEC_OUT_INHERIT, SPEC_OUT_NULL, SPEC_OUT_FILE };

/* Where stdout or stderr goes. */
struct spec_output {
	enum spec_out	 mode;
	char		*path;		/* SPEC_OUT_FILE: owned */
	int64_t		 max_bytes;	/* rotate at this size; 0: never */
	int		 keep;		/* rotated files kept */
};

/* One setrlimit before exec. */
struct spec_rlimit {
	int		 resource;	/* RLIMIT_* */
	/* Soft and hard; UINT64_MAX: infinity. */
	uint64_t	 value;
};

/* One step of an on_exit ladder (Director): exits up to `upto` do this. */
struct spec_step {
	int64_t			upto;		/* 0: every later exit */
	enum spec_action	action;
	int64_t			delay_ms;	/* restart only */
	bool			oom;		/* "when": "oom": OOM kills only */
};

/* One attr value: integers, reals and text natively, the rest as JSON text. */
enum value_type { VALUE_INT, VALUE_REAL, VALUE_TEXT, VALUE_JSON };
struct value {
	enum value_type	 type;
	int64_t		 i;
	double		 r;
	char		*s;		/* owned; VALUE_TEXT and VALUE_JSON */
};

struct spec_attr {
	char		*key;		/* owned */
	struct value	 v;
};

/*
 * Every size a childspec controls is bounded (a spec may come from any
 * client of class control).  Strings are counted in bytes without their
 * NUL; an env entry as "KEY=VALUE".
 */
#define SPEC_MAX_ARGV		4096	/* cmd + args entries */
#define SPEC_MAX_ENV		4096
/* One argument or env entry: execve(2)'s MAX_ARG_STRLEN less the NUL. */
#define SPEC_MAX_ARG_BYTES	(128 * 1024 - 1)
#define SPEC_MAX_ARGV_BYTES	(1024 * 1024)	/* all of cmd + args */
#define SPEC_MAX_ENV_BYTES	(1024 * 1024)	/* all of env */
#define SPEC_MAX_HOOK_BYTES	(1024 * 1024)	/* all of after_terminate */
#define SPEC_MAX_VALUE_BYTES	(64 * 1024)	/* one attr value (text/JSON) */
#define SPEC_MAX_ATTRS_BYTES	(1024 * 1024)	/* all attr keys + values */
#define SPEC_MAX_CODES		256	/* success_exit_codes */
#define SPEC_MAX_RESTARTS	10000	/* bound on the intensity window */
#define SPEC_MAX_MS		(INT64_C(1) << 40)	/* ~35 years */
#define SPEC_MAX_STEPS		64	/* on_exit ladder */

struct deps_edge;
struct healthspec;

/*
 * A childspec owns every string and array it points to.  A child's spec
 * may be shared by several children (child.c keeps one of each spec it
 * holds, see spec_equal): it is then read-only, and its name is NULL (the
 * name is the child's).
 */
struct childspec {
	char			*name;		/* NULL: a child's (shared) */
	char			*template;	/* informational, or NULL */
	char			**cmd;		/* NULL-terminated */
	size_t			 ncmd;
	char			**args;		/* NULL-terminated */
	size_t			 nargs;
	char			**env;		/* KEY=VALUE, NULL-terminated */
	size_t			 nenv;
	bool			 clear_env;
	char			*cwd;		/* "/" by default */
	enum spec_type		 type;
	enum spec_restart	 restart;
	int64_t			 restart_delay_ms;
	int			*success_codes;
	size_t			 nsuccess;
	int			 max_restarts;	/* 0 = no limit */
	int64_t			 max_period_ms;
	enum spec_give_up	 on_give_up;
	double			 backoff_factor;	/* >= 1 */
	int64_t			 backoff_max_ms;
	int64_t			 backoff_reset_ms;
	double			 backoff_jitter;	/* 0..1 */
	struct spec_step	*on_exit;		/* NULL: none */
	size_t			 non_exit;
	enum spec_ready		 ready;
	int			 ready_fd;		/* SPEC_READY_FD */
	int64_t			 ready_timeout_ms;
	int64_t			 watchdog_ms;		/* 0: off */
	char			**after_terminate;	/* NULL: no hook */
	size_t			 nhook;
	int64_t			 hook_timeout_ms;
	struct spec_output	 out[2];		/* stdout, stderr */
	/* Credentials and process attributes; resolved when parsed. */
	char			*user;		/* as given, or NULL */
	char			*group;
	bool			 set_uid;
	unsigned		 uid;
	bool			 set_gid;
	unsigned		 gid;
	char			*home;		/* the user's, for the env */
	char			*shell;
	char			*login;
	unsigned		*groups;	/* supplementary, resolved */
	int			 ngroups;
	int			 umask;		/* -1: gtd's */
	bool			 set_nice;
	int			 nice;
	struct spec_rlimit	*rlimits;
	size_t			 nrlimits;
	struct cglimits		 limits;	/* cgroup v2 (protocol 9.2) */
	enum spec_shutdown	 shutdown;
	int			 shutdown_signal;
	int			 reload_signal;	/* reload_child's */
	int64_t			 shutdown_timeout_ms;
	bool			 kill_group;
	struct spec_attr	*attrs;
	size_t			 nattrs;
	/* Relationships (protocol §9.1). */
	struct deps_edge	*deps;		/* depends_on, or NULL */
	size_t			 ndeps;
	char			**env_files;	/* NULL-terminated, or NULL */
	size_t			 nenv_files;
	struct healthspec	*health;	/* owned, or NULL: no probe */
	/* OTP group (protocol §9.1 "groups"; "group" is the Unix group). */
	char			*member_of;	/* a config group, or NULL */
	bool			 significant;
	/* Cluster (protocol §9.3): scope "cluster", and its failover. */
	bool			 cluster;
	bool			 failover;
	/* Sharing: not part of the spec (spec_equal ignores them). */
	int			 refs;		/* holders (spec_hold) */
	struct childspec	*share_next;	/* child.c's table of specs */
	uint64_t		 share_hash;	/* its spec_hash there */
};

/* A new spec with every default filled in (name and cmd empty). */
struct childspec	*spec_new(void);
/*
 * Drop one holder of s: the last one frees it.  A spec has one holder
 * when made (spec_new, spec_dup); spec_hold adds one and returns s.
 * NULL is fine.
 */
void			 spec_free(struct childspec *);
struct childspec	*spec_hold(struct childspec *);
/* A copy with one holder, the name included. */
struct childspec	*spec_dup(const struct childspec *);
/*
 * Do a and b run the same way: every field equal but the name (and the
 * sharing fields)?  Then one of them can stand for both.  false when
 * either has a health probe (its spec is not compared here).
 * spec_hash: the same value for specs spec_equal calls equal.
 */
bool			 spec_equal(const struct childspec *a,
			    const struct childspec *b);
uint64_t		 spec_hash(const struct childspec *);

/*
 * Check the cross-field rules (name length, cmd present, the totals of
 * SPEC_MAX_*_BYTES and SPEC_MAX_ARGV).  0, or
 * -1 with *field set to the dotted path of the offending field (static
 * string) and *cause to an xasprintf'd message the caller frees.
 */
int	 spec_validate(const struct childspec *, const char **field,
	    char **cause);

/* Append a string to a NULL-terminated vector (copies it). */
void	 spec_strv_add(char ***, size_t *, const char *);
void	 spec_strv_free(char **);
size_t	 spec_strv_len(char **);

/* The argv of a start: cmd followed by args; free with spec_strv_free. */
char	**spec_argv(const struct childspec *);

/*
 * Output file paths are templates: %n is the child's name, %z the zone,
 * %% a '%'.  In a name or zone, '/' and a leading '.' become '_', so an
 * expansion is never more (or less) than one part of a path.
 * spec_path_check: 0 if tmpl uses only those, else -1.
 * spec_path_expand: the path for name in zone (xmalloc'd).
 */
int	 spec_path_check(const char *tmpl);
char	*spec_path_expand(const char *tmpl, const char *name,
	    const char *zone);
/*
 * Do a and b write one file through different outputs where either
 * output rotates it?  The index (0 stdout, 1 stderr) of b's output that
 * does, or -1.  Both in zone.
 */
int	 spec_output_clash(const struct childspec *a,
	    const struct childspec *b, const char *zone);
/* The same, a being the spec of the child named aname (a->name unused). */
int	 spec_output_clash_as(const struct childspec *a, const char *aname,
	    const struct childspec *b, const char *zone);

/* Is a wait(2) status a normal exit for this spec (success_exit_codes)? */
bool	 spec_exit_is_success(const struct childspec *, int status);

const char	*spec_restart_name(enum spec_restart);
const char	*spec_type_name(enum spec_type);
const char	*spec_give_up_name(enum spec_give_up);
const char	*spec_action_name(enum spec_action);
/* "nofile" -> RLIMIT_NOFILE, and back; -1/NULL if unknown. */
int		 spec_rlimit_parse(const char *);
const char	*spec_rlimit_name(int);
int		 spec_action_parse(const char *, enum spec_action *);
int		 spec_restart_parse(const char *, enum spec_restart *);
int		 spec_type_parse(const char *, enum spec_type *);
int		 spec_give_up_parse(const char *, enum spec_give_up *);

/*
 * Signals: "SIGHUP", "HUP" and "1" all parse to 1; -1 if unknown.
 * spec_signal_name returns "SIGHUP" (static), or NULL if unknown.
 */
int		 spec_signal_parse(const char *);
const char	*spec_signal_name(int);

void	value_free(struct value *);		/* frees the string, not v */
void	value_copy(struct value *dst, const struct value *src);

#endif /* GT_SPEC_H */
