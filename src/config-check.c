/* SPDX-License-Identifier: MIT */
/*
 * config-check: what `gtd -n` checks on the host beyond the file itself,
 * without starting anything: each boot child's program (found in the
 * PATH the child will get, a regular file its user may execute), its
 * cwd and the directories of its {"file": ...} outputs (there, and
 * usable by its user), its user's passwd entry and whether gtd may switch
 * to it; the same, as warnings, for templates and after_terminate hooks.
 * Permissions for another user are judged from the mode bits (an ACL
 * makes a denial a warning).  Reads the filesystem and the user
 * database; never changes anything, never logs.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/xattr.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/config.h"
#include "gt/xmalloc.h"

#define CC_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"	/* as spawn.c */

/* Whose permissions count: the child's credentials. */
struct cc_cred {
	bool		 self;		/* gtd's own: ask the kernel */
	uid_t		 uid;
	gid_t		 gid;
	const unsigned	*groups;
	int		 ngroups;
	const char	*who;		/* "user nobody", for messages */
};

/* The findings so far, and where the spec came from. */
struct cc {
	struct config_issue	*v;
	size_t			 n;
	const char		*src;	/* "children.2", "templates.web" */
	bool			 boot;	/* errors, not warnings */
};

static void	cc_issue(struct cc *, bool, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

static void
cc_issue(struct cc *cc, bool error, const char *field, const char *fmt, ...)
{
	struct config_issue	*is;
	va_list			 ap;

	cc->v = xreallocarray(cc->v, cc->n + 1, sizeof *cc->v);
	is = &cc->v[cc->n++];
	is->error = error && cc->boot;
	xasprintf(&is->field, "%s.%s", cc->src, field);
	va_start(ap, fmt);
	if (vasprintf(&is->message, fmt, ap) == -1)
		is->message = NULL;
	va_end(ap);
	if (is->message == NULL)
		is->message = xstrdup("invalid");
}

static bool
cc_in_groups(const struct cc_cred *cr, gid_t gid)
{
	int	i;

	if (gid == cr->gid)
		return (true);
	for (i = 0; i < cr->ngroups; i++)
		if (cr->groups[i] == gid)
			return (true);
	return (false);
}

/* May cr do want (R_OK|W_OK|X_OK) on the file at path (stat'ed as st)? */
static bool
cc_may(const char *path, const struct stat *st, const struct cc_cred *cr,
    int want)
{
	mode_t	m;

	if (cr->self)
		return (faccessat(AT_FDCWD, path, want, AT_EACCESS) == 0);
	if (cr->uid == 0)	/* root: anything but exec without an x bit */
		return (!(want & X_OK) || S_ISDIR(st->st_mode) ||
		    (st->st_mode & 0111) != 0);
	if (st->st_uid == cr->uid)
		m = (st->st_mode >> 6) & 7;
	else if (cc_in_groups(cr, st->st_gid))
		m = (st->st_mode >> 3) & 7;
	else
		m = st->st_mode & 7;
	/* R_OK, W_OK and X_OK are 4, 2 and 1, as the mode bits. */
	return ((m & (mode_t)want) == (mode_t)want);
}

/* Does path carry an access ACL (which the mode bits do not show)? */
static bool
cc_has_acl(const char *path)
{
	return (getxattr(path, "system.posix_acl_access", NULL, 0) > 0);
}

/*
 * Walk path: every directory on the way must be searchable by cr, and
 * the last component must allow want.  0 with *st of the last; or -1 with
 * errno (ENOENT, ENOTDIR, EACCES) and *where the component (xmalloc'd).
 */
static int
cc_walk(const char *path, const struct cc_cred *cr, int want,
    struct stat *st, char **where)
{
	char	*p = xstrdup(path), *slash;
	int	 e = 0;

	for (slash = p + 1; e == 0; slash++) {
		slash = strchr(slash, '/');
		if (slash != NULL)
			*slash = '\0';
		if (stat(*p == '\0' ? "/" : p, st) == -1)
			e = errno;
		else if (slash != NULL && !S_ISDIR(st->st_mode))
			e = ENOTDIR;
		else if (!cc_may(*p == '\0' ? "/" : p, st, cr,
		    slash != NULL ? X_OK : want))
			e = EACCES;
		if (e != 0 || slash == NULL)
			break;
		*slash = '/';
	}
	if (e == 0) {
		free(p);
		return (0);
	}
	*where = p;		/* cut at the component that failed */
	errno = e;
	return (-1);
}

/* A walk that failed: an error, or a warning when an ACL may allow it. */
static void
cc_walk_fail(struct cc *cc, const struct cc_cred *cr, const char *field,
    const char *what, const char *path, char *where)
{
	const char	*at;
	int		 e = errno;

	/* "cwd /a/b: /a: ...", or just "cwd /a: ..." when /a failed. */
	at = strcmp(where, path) == 0 ? "" : where;
	if (e == EACCES && !cr->self && cc_has_acl(where))
		cc_issue(cc, false, field, "%s %s: %s%smay be denied to %s (an "
		    "ACL, not checked)", what, path, at, *at == '\0' ? "" :
		    ": ", cr->who);
	else if (e == EACCES)
		cc_issue(cc, true, field, "%s %s: %s%spermission denied for %s",
		    what, path, at, *at == '\0' ? "" : ": ", cr->who);
	else
		cc_issue(cc, true, field, "%s %s: %s%s%s", what, path, at,
		    *at == '\0' ? "" : ": ", strerror(e));
	free(where);
}

/* The PATH the child will search (as child.c builds its environment). */
static const char *
cc_path(const struct childspec *s)
{
	const char	*p;
	size_t		 i;

	for (i = 0; i < s->nenv; i++)
		if (strncmp(s->env[i], "PATH=", 5) == 0)
			return (s->env[i] + 5);
	if (!s->clear_env && (p = getenv("PATH")) != NULL)
		return (p);
	return (CC_DEFAULT_PATH);
}

/* Is the program file found, a regular file cr may execute?  0 or -1. */
static int
cc_exec_ok(struct cc *cc, const struct cc_cred *cr, const char *field,
    const char *path, bool report)
{
	struct stat	 st;
	char		*where;

	if (cc_walk(path, cr, X_OK, &st, &where) == -1) {
		if (report)
			cc_walk_fail(cc, cr, field, "program", path, where);
		else
			free(where);
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		if (report)
			cc_issue(cc, true, field, "program %s is not a regular "
			    "file", path);
		return (-1);
	}
	return (0);
}

/* argv[0] of a start (cmd.0) or of a hook, as spawn_resolve finds it. */
static void
cc_program(struct cc *cc, const struct childspec *s, const struct cc_cred *cr,
    const char *field, const char *file)
{
	const char	*list = cc_path(s), *p, *end;
	char		*cand, *denied = NULL;
	size_t		 len;

	if (strchr(file, '/') != NULL) {
		if (*file == '/')
			(void)cc_exec_ok(cc, cr, field, file, true);
		else {
			/* Relative: exec runs after the chdir to cwd. */
			xasprintf(&cand, "%s/%s", s->cwd, file);
			(void)cc_exec_ok(cc, cr, field, cand, true);
			free(cand);
		}
		return;
	}
	/* What spawn_resolve picks: the first that gtd may execute. */
	for (p = list; ; p = end + 1) {
		end = strchrnul(p, ':');
		len = end - p;
		xasprintf(&cand, "%.*s/%s", (int)len, len == 0 ? "." : p, file);
		if (access(cand, X_OK) == 0) {
			(void)cc_exec_ok(cc, cr, field, cand, true);
			free(cand);
			free(denied);
			return;
		}
		if (errno == EACCES && denied == NULL)
			denied = cand;
		else
			free(cand);
		if (*end == '\0')
			break;
	}
	if (denied != NULL)
		cc_issue(cc, true, field, "program %s: %s is not executable",
		    file, denied);
	else
		cc_issue(cc, true, field, "program %s not found in PATH %s",
		    file, list);
	free(denied);
}

static void
cc_cwd(struct cc *cc, const struct childspec *s, const struct cc_cred *cr)
{
	struct stat	 st;
	char		*where;

	if (cc_walk(s->cwd, cr, X_OK, &st, &where) == -1)
		cc_walk_fail(cc, cr, "cwd", "cwd", s->cwd, where);
	else if (!S_ISDIR(st.st_mode))
		cc_issue(cc, true, "cwd", "cwd %s is not a directory", s->cwd);
}

/* The directory of a {"file": PATH} output must exist. */
static void
cc_output(struct cc *cc, const struct spec_output *o, const char *name,
    const struct cc_cred *cr)
{
	struct stat	 st;
	char		*dir, *where, field[16];

	snprintf(field, sizeof field, "%s.file", name);
	dir = xstrdup(o->path);
	*strrchr(dir, '/') = '\0';		/* the path is absolute */
	/* %n and %z are filled in at the start: check what is fixed. */
	if (strchr(dir, '%') != NULL) {
		free(dir);
		return;
	}
	if (cc_walk(*dir == '\0' ? "/" : dir, cr, X_OK, &st, &where) == -1) {
		if (errno == EACCES)	/* gtd may still open it: a warning */
			cc_issue(cc, false, field, "log directory %s: %s cannot "
			    "reach %s", dir, cr->who, where);
		else
			cc_walk_fail(cc, cr, field, "log directory", dir,
			    where);
	} else if (!S_ISDIR(st.st_mode))
		cc_issue(cc, true, field, "log directory %s is not a "
		    "directory", dir);
	free(dir);
}

/* The credentials of s: its user and group, or gtd's own. */
static void
cc_cred_of(struct cc *cc, const struct childspec *s, struct cc_cred *cr,
    char *who, size_t size)
{
	memset(cr, 0, sizeof *cr);
	cr->self = !s->set_uid && !s->set_gid;
	cr->uid = s->set_uid ? (uid_t)s->uid : geteuid();
	cr->gid = s->set_gid ? (gid_t)s->gid : getegid();
	cr->groups = s->groups;
	cr->ngroups = s->set_uid ? s->ngroups : 0;
	if (s->set_uid)
		snprintf(who, size, "user %s", s->user);
	else if (s->set_gid)
		snprintf(who, size, "group %s", s->group);
	else
		snprintf(who, size, "uid %u", (unsigned)geteuid());
	cr->who = who;
	if (s->set_uid && s->login == NULL)
		cc_issue(cc, false, "user", "uid %s has no passwd entry: HOME, "
		    "USER, LOGNAME and SHELL are not set", s->user);
	if ((s->set_uid && cr->uid != geteuid()) || (s->set_gid &&
	    cr->gid != getegid())) {
		/* gtd itself may well run as root: a warning. */
		if (geteuid() != 0)
			cc_issue(cc, false, s->set_uid ? "user" : "group",
			    "switching to %s needs root; this check runs as "
			    "uid %u", who, (unsigned)geteuid());
	}
}

/* Every check for one spec; boot children's failures are errors. */
static void
cc_spec(struct cc *cc, const struct childspec *s)
{
	struct cc_cred	 cr;
	char		 who[300];

	cc_cred_of(cc, s, &cr, who, sizeof who);
	cc_cwd(cc, s, &cr);
	cc_program(cc, s, &cr, "cmd.0", s->cmd[0]);
	if (s->out[0].mode == SPEC_OUT_FILE)
		cc_output(cc, &s->out[0], "stdout", &cr);
	if (s->out[1].mode == SPEC_OUT_FILE)
		cc_output(cc, &s->out[1], "stderr", &cr);
	if (s->after_terminate != NULL) {
		/* A hook that cannot run does not stop the child. */
		cc->boot = false;
		cc_program(cc, s, &cr, "after_terminate.0",
		    s->after_terminate[0]);
	}
}

/* A template, built as an instance of it would be. */
static void
cc_template(struct cc *cc, const struct config *cf, const char *name)
{
	struct childspec	*s;
	json_t			*inst;
	char			*field = NULL, *cause = NULL;

	inst = json_pack("{s:s, s:s}", "name", "x", "template", name);
	s = config_spec_build(&cf->tpl, inst, &field, &cause);
	json_decref(inst);
	/* Without a cmd of its own a template may still be valid. */
	if (s != NULL)
		cc_spec(cc, s);
	spec_free(s);
	free(field);
	free(cause);
}

size_t
config_check(const struct config *cf, struct config_issue **out)
{
	struct cc	 cc = { NULL, 0, NULL, false };
	const char	*k;
	json_t		*v;
	char		*src;
	size_t		 i;

	for (i = 0; i < cf->nchildren; i++) {
		if (cf->children[i] == NULL)
			continue;	/* taken by a boot */
		cc.src = cf->child_src[i];
		cc.boot = true;
		cc_spec(&cc, cf->children[i]);
	}
	if (cf->tpl.templates != NULL) {
		json_object_foreach(cf->tpl.templates, k, v) {
			xasprintf(&src, "templates.%s", k);
			cc.src = src;
			cc.boot = false;
			cc_template(&cc, cf, k);
			free(src);
		}
	}
	*out = cc.v;
	return (cc.n);
}

void
config_issues_free(struct config_issue *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].field);
		free(v[i].message);
	}
	free(v);
}
