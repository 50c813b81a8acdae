/* SPDX-License-Identifier: MIT */
/*
 * config: the config-file parser (includes, defaults and templates,
 * groups, cluster, limits, the socket and the acl).  Strict: every key is
 * known, every type checked, every number range-checked, and an error
 * names the key by its dotted path (protocol §4 "field").  Pure: reads
 * the file it is given and nothing else; never logs.  Each childspec in
 * it goes through config-spec.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/config.h"
#include "gt/deps.h"
#include "gt/group.h"
#include "gt/protocol.h"
#include "gt/shmlayout.h"
#include "gt/xmalloc.h"

#include "gt/config-int.h"

void
config_default_limits(struct gtd_limits *l)
{
	l->max_request_bytes = GT_REQUEST_MAX;
	l->max_output_bytes = GT_OUTPUT_MAX;
	l->max_attr_value_bytes = GT_ATTR_VALUE_MAX;
	l->max_attr_bytes = GT_ATTR_BYTES_MAX;
	l->max_connections = GT_CONN_MAX;
	l->max_connections_per_uid = -1;
	l->reserved_connections = -1;
	l->max_children = GT_CHILDREN_MAX;
	l->max_attrs = GT_ATTRS_MAX;
	l->max_mirror_bytes = SHM_DEFAULT_BYTES;
}

static int
config_limit(const json_t *j, const char *key, int64_t lo, int64_t hi,
    int64_t *out, struct config_err *e)
{
	json_t	*v;

	if ((v = json_object_get(j, key)) == NULL)
		return (0);
	return (config_int(v, key, lo, hi, out, e));
}

/* The bounds of what one client may make gtd hold (conn.c, server.c). */
static int
config_conn_limits(struct config *c, const json_t *j, struct config_err *e)
{
	struct gtd_limits	*l = &c->lim;
	int64_t			 n;

	n = (int64_t)l->max_output_bytes;
	if (config_limit(j, "max_output_bytes", 65536, 1 << 30, &n, e) == -1)
		return (-1);
	l->max_output_bytes = (size_t)n;
	n = (int64_t)l->max_attr_value_bytes;
	if (config_limit(j, "max_attr_value_bytes", 16, 64 << 20, &n,
	    e) == -1)
		return (-1);
	l->max_attr_value_bytes = (size_t)n;
	n = (int64_t)l->max_attr_bytes;
	if (config_limit(j, "max_attr_bytes", 1024, 1 << 30, &n, e) == -1)
		return (-1);
	l->max_attr_bytes = (size_t)n;
	n = l->max_connections_per_uid;
	if (config_limit(j, "max_connections_per_uid", 1, 100000, &n,
	    e) == -1)
		return (-1);
	l->max_connections_per_uid = (int)n;
	n = l->reserved_connections;
	if (config_limit(j, "reserved_connections", 0, 100000, &n, e) == -1)
		return (-1);
	if (n >= l->max_connections)
		return (config_fail(e, "reserved_connections",
		    "reserved_connections must be less than max_connections "
		    "(%d)", l->max_connections));
	l->reserved_connections = (int)n;
	return (0);
}

static int
config_snapshot(struct config *c, const json_t *j, struct config_err *e)
{
	static const char *const	 keys[] = { "path", "interval_ms",
	    NULL };
	json_t				*v;

	if (!json_is_object(j))
		return (config_fail(e, "snapshot",
		    "snapshot must be an object"));
	if (config_keys(j, "snapshot", keys, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "path")) == NULL)
		return (config_fail(e, "snapshot.path", "snapshot.path is "
		    "missing"));
	/* Room for the ".tmp" of the scratch file. */
	if (config_string(v, "snapshot.path", PATH_MAX - 8, &c->snapshot_path,
	    e) == -1)
		return (-1);
	if (*c->snapshot_path != '/')
		return (config_fail(e, "snapshot.path", "snapshot.path must be "
		    "an absolute path"));
	c->snapshot_interval_ms = CONFIG_SNAPSHOT_MS;
	if ((v = json_object_get(j, "interval_ms")) != NULL &&
	    config_int(v, "snapshot.interval_ms", CONFIG_SNAPSHOT_MIN_MS,
	    CONFIG_SNAPSHOT_MAX_MS, &c->snapshot_interval_ms, e) == -1)
		return (-1);
	return (0);
}

/*
 * "cgroup": an absolute path (a directory of the cgroup2 file system,
 * checked when gtd starts), true (automatic, the default) or false (no
 * containment).
 */
static int
config_cgroup(struct config *c, const json_t *j, struct config_err *e)
{
	if (json_is_boolean(j)) {
		c->cgroup_off = json_is_false(j);
		return (0);
	}
	if (!json_is_string(j))
		return (config_fail(e, "cgroup", "cgroup must be a path, true "
		    "or false"));
	if (config_string(j, "cgroup", PATH_MAX, &c->cgroup, e) == -1)
		return (-1);
	if (*c->cgroup != '/')
		return (config_fail(e, "cgroup", "cgroup must be an absolute "
		    "path"));
	return (0);
}

/*
 * "cluster": {"etcd": [URL, ...], "node": NAME, "lease_ttl_ms": N}
 * (protocol §9.3).  lease_ttl_ms is rounded up to whole seconds.
 */
static int
config_cluster(struct config *c, const json_t *j, struct config_err *e)
{
	static const char *const	 keys[] = { "etcd", "node",
	    "lease_ttl_ms", NULL };
	struct config_cluster		*cc;
	const char			*p;
	json_t				*v;
	int64_t				 n = CONFIG_CLUSTER_TTL_MS;
	size_t				 i;
	char				 sub[48];

	if (!json_is_object(j))
		return (config_fail(e, "cluster", "cluster must be an object"));
	if (config_keys(j, "cluster", keys, e) == -1)
		return (-1);
	cc = c->cluster = xcalloc(1, sizeof *cc);
	if ((v = json_object_get(j, "etcd")) == NULL)
		return (config_fail(e, "cluster.etcd", "cluster.etcd is "
		    "missing (the etcd endpoints, \"http://HOST:PORT\")"));
	if (config_strv(v, "cluster.etcd", &cc->etcd, &cc->netcd, e) == -1)
		return (-1);
	if (cc->netcd == 0 || cc->netcd > CONFIG_CLUSTER_MAX_ETCD)
		return (config_fail(e, "cluster.etcd", "cluster.etcd must "
		    "list 1 to %d endpoints", CONFIG_CLUSTER_MAX_ETCD));
	for (i = 0; i < cc->netcd; i++) {
		snprintf(sub, sizeof sub, "cluster.etcd.%zu", i);
		if ((strncmp(cc->etcd[i], "http://", 7) != 0 &&
		    strncmp(cc->etcd[i], "https://", 8) != 0) ||
		    strlen(cc->etcd[i]) > 1024)
			return (config_fail(e, sub, "%s must be an http:// or "
			    "https:// URL of at most 1024 bytes", sub));
	}
	if ((v = json_object_get(j, "node")) != NULL) {
		if (config_string(v, "cluster.node", 255, &cc->node, e) == -1)
			return (-1);
		for (p = cc->node; *p != '\0'; p++)
			if (*p == '/' || (unsigned char)*p < 0x20 ||
			    *p == 0x7f)
				break;
		if (*cc->node == '\0' || *p != '\0')
			return (config_fail(e, "cluster.node", "cluster.node "
			    "must be 1 to 255 bytes without '/' or control "
			    "characters"));
	}
	if ((v = json_object_get(j, "lease_ttl_ms")) != NULL &&
	    config_int(v, "cluster.lease_ttl_ms", CONFIG_CLUSTER_TTL_MIN_MS,
	    CONFIG_CLUSTER_TTL_MAX_MS, &n, e) == -1)
		return (-1);
	cc->lease_ttl_ms = (int)((n + 999) / 1000 * 1000);
	return (0);
}

/* Validate a partial spec (defaults, a template) by parsing it whole. */
static int
config_partial(const struct config_tpl *tpl, json_t *obj, const char *prefix,
    struct config_err *e)
{
	struct childspec	*sp;
	json_t			*o;
	char			*f = NULL, *cause = NULL;

	if (!json_is_object(obj))
		return (config_fail(e, prefix, "%s must be an object", prefix));
	if (json_object_get(obj, "name") != NULL) {
		xasprintf(&f, "%s.name", prefix);
		config_fail(e, f, "%s may not set name", prefix);
		free(f);
		return (-1);
	}
	o = json_deep_copy(obj);
	json_object_set_new(o, "name", json_string("x"));
	if (json_object_get(o, "cmd") == NULL &&
	    json_object_get(o, "template") == NULL)
		json_object_set_new(o, "cmd", json_pack("[s]", "x"));
	sp = config_spec_build(tpl, o, &f, &cause);
	json_decref(o);
	if (sp == NULL) {
		xasprintf(&e->field, "%s.%s", prefix, f);
		e->cause = cause;
		free(f);
		return (-1);
	}
	spec_free(sp);
	return (0);
}

static int
config_templates(struct config *c, const json_t *j, struct config_err *e)
{
	struct config_tpl	 none = { c->tpl.defaults, NULL };
	const char		*k;
	json_t			*v;
	char			 sub[GT_NAME_MAX + 16];

	if (!json_is_object(j))
		return (config_fail(e, "templates", "templates must be an "
		    "object of partial childspecs"));
	json_object_foreach((json_t *)j, k, v) {
		config_path(sub, sizeof sub, "templates", k, GT_NAME_MAX);
		if (json_is_object(v) && json_object_get(v, "template") != NULL)
			return (config_fail(e, sub, "a template cannot use a "
			    "template"));
		if (config_partial(&none, v, sub, e) == -1)
			return (-1);
	}
	c->tpl.templates = json_incref((json_t *)j);
	return (0);
}

/* Parse one more boot child; src names it for errors ("children.3"). */
static int
config_child_add(struct config *c, const json_t *el, const char *src,
    struct config_err *e)
{
	struct childspec	*sp;
	char			*f = NULL, *cause = NULL;
	size_t			 k;
	int			 i;

	if ((sp = config_spec_build(&c->tpl, el, &f, &cause)) == NULL) {
		xasprintf(&e->field, "%s.%s", src, f);
		e->cause = cause;
		free(f);
		return (-1);
	}
	for (k = 0; k < c->nchildren; k++) {
		if (strcmp(c->children[k]->name, sp->name) == 0) {
			xasprintf(&f, "%s.name", src);
			config_fail(e, f, "duplicate name %s (also in %s)",
			    sp->name, c->child_src[k]);
			free(f);
			spec_free(sp);
			return (-1);
		}
		/* Two children rotating one file would clobber each other. */
		if ((i = spec_output_clash(c->children[k], sp, c->zone)) !=
		    -1) {
			xasprintf(&f, "%s.%s.file", src, i ? "stderr" :
			    "stdout");
			config_fail(e, f, "%s is also written by %s (%s): a "
			    "rotated file needs a child of its own (use %%n)",
			    sp->out[i].path, c->children[k]->name,
			    c->child_src[k]);
			free(f);
			spec_free(sp);
			return (-1);
		}
	}
	c->children = xreallocarray(c->children, c->nchildren + 2,
	    sizeof *c->children);
	c->child_src = xreallocarray(c->child_src, c->nchildren + 2,
	    sizeof *c->child_src);
	c->children[c->nchildren] = sp;
	c->names = xreallocarray(c->names, c->nchildren + 2,
	    sizeof *c->names);
	c->names[c->nchildren] = xstrdup(sp->name);
	c->names[c->nchildren + 1] = NULL;
	c->texts = xreallocarray(c->texts, c->nchildren + 2,
	    sizeof *c->texts);
	c->texts[c->nchildren] = config_spec_text(sp);
	c->texts[c->nchildren + 1] = NULL;
	c->child_src[c->nchildren++] = xstrdup(src);
	c->children[c->nchildren] = NULL;
	return (0);
}

static int
config_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * A file or directory gtd may take children from: whoever can change it
 * runs programs as gtd's user.  Owned by root or gtd's user, writable by
 * no other user (group: the owner's choice), and a regular file or a
 * directory (not a FIFO, on which a read would block).  0, or -1 with
 * *why (xasprintf'd).
 */
static int
config_trusted(int fd, const char *path, bool dir, char **why)
{
	struct stat	 st;
	struct passwd	*pw;

	if (fstat(fd, &st) == -1) {
		xasprintf(why, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		xasprintf(why, "%s: not a %s", path, dir ? "directory" :
		    "regular file");
		return (-1);
	}
	if ((st.st_uid == 0 || st.st_uid == geteuid()) &&
	    (st.st_mode & S_IWOTH) == 0)
		return (0);
	pw = getpwuid(st.st_uid);
	xasprintf(why, "%s is owned by %s (uid %u) with mode %04o: it must "
	    "belong to root or uid %u and not be writable by others", path,
	    pw != NULL ? pw->pw_name : "?", (unsigned)st.st_uid,
	    (unsigned)(st.st_mode & 07777), (unsigned)geteuid());
	return (-1);
}

/*
 * Read and parse the JSON file at path.  It must be a regular file (a
 * symlink to one is fine) of at most CONFIG_FILE_MAX bytes: a FIFO or a
 * device would block gtd, which reads its config inside the event loop
 * on a reload.  O_NONBLOCK makes the open itself return at once for a
 * FIFO without a writer; fstat then refuses it.  NULL + *cause.
 */
static json_t *
config_read(const char *path, char **cause)
{
	struct stat	 st;
	json_error_t	 je;
	json_t		*j = NULL;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1 || fstat(fd, &st) == -1)
		goto fail;
	if (config_trusted(fd, path, false, cause) == -1)
		goto out;
	if (st.st_size > CONFIG_FILE_MAX)
		goto big;
	/* One byte more than allowed: a file that grew is caught too. */
	buf = xmalloc(CONFIG_FILE_MAX + 1);
	while (len <= CONFIG_FILE_MAX && (n = read(fd, buf + len,
	    CONFIG_FILE_MAX + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		len += n;
	}
	if (len > CONFIG_FILE_MAX)
		goto big;
	if ((j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		xasprintf(cause, "%s:%d: %s", path, je.line, je.text);
	goto out;
big:
	xasprintf(cause, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
	goto out;
fail:
	saved = errno;
	xasprintf(cause, "%s: %s", path, strerror(saved));
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return (j);
}

/* Every *.json in dir, in name order, is one more boot child. */
static int
config_include(struct config *c, const json_t *v, struct config_err *e)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, *path, *src, *cause = NULL;
	size_t		  n = 0, i, len;
	json_t		 *j;
	int		  rc = 0;

	if (!json_is_string(v) || *json_string_value(v) != '/')
		return (config_fail(e, "include", "include must be an absolute "
		    "directory path"));
	if ((d = opendir(json_string_value(v))) == NULL)
		return (config_fail(e, "include", "%s: %s",
		    json_string_value(v), strerror(errno)));
	if (config_trusted(dirfd(d), json_string_value(v), true, &cause) ==
	    -1) {
		closedir(d);
		rc = config_fail(e, "include", "%s", cause);
		free(cause);
		return (rc);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len > 5 && de->d_name[0] != '.' &&
		    strcmp(de->d_name + len - 5, ".json") == 0)
			spec_strv_add(&names, &n, de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, config_name_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		xasprintf(&path, "%s/%s", json_string_value(v), names[i]);
		xasprintf(&src, "include.%s", names[i]);
		if ((j = config_read(path, &cause)) == NULL)
			rc = config_fail(e, src, "%s", cause);
		else
			rc = config_child_add(c, j, src, e);
		json_decref(j);
		free(cause);
		cause = NULL;
		free(path);
		free(src);
	}
	spec_strv_free(names);
	return (rc);
}

/* "users"/"groups": name or numeric id -> class. */
static int
config_acl_map(struct acl *a, const json_t *m, int is_group,
    struct config_err *e)
{
	const char	*k, *what = is_group ? "groups" : "users";
	json_t		*v;
	char		 sub[300], *end;
	unsigned long	 id;
	enum acl_class	 cl;
	struct passwd	*pw;
	struct group	*gr;

	if (!json_is_object(m))
		return (config_fail(e, is_group ? "acl.groups" : "acl.users",
		    "acl.%s must be an object of classes", what));
	json_object_foreach((json_t *)m, k, v) {
		config_path(sub, sizeof sub, is_group ? "acl.groups" :
		    "acl.users", k, 256);
		if (!json_is_string(v) ||
		    acl_class_parse(json_string_value(v), &cl) == -1)
			return (config_fail(e, sub, "%s must be none, read, "
			    "write, control or admin", sub));
		errno = 0;
		id = strtoul(k, &end, 10);
		if (*k == '\0' || *end != '\0' || errno != 0) {
			/* A name: resolved once, here, not per request. */
			if (!is_group && (pw = getpwnam(k)) != NULL)
				id = pw->pw_uid;
			else if (is_group && (gr = getgrnam(k)) != NULL)
				id = gr->gr_gid;
			else
				return (config_fail(e, sub, "no %s named %s",
				    is_group ? "group" : "user", k));
		}
		a->e = xreallocarray(a->e, a->n + 1, sizeof *a->e);
		a->e[a->n++] = (struct acl_entry){ is_group, (unsigned)id, cl };
	}
	return (0);
}

static int
config_acl(struct config *c, const json_t *j, struct config_err *e)
{
	static const char *const	 keys[] = { "default", "users",
	    "groups", NULL };
	json_t				*v;

	if (!json_is_object(j))
		return (config_fail(e, "acl", "acl must be an object"));
	if (config_keys(j, "acl", keys, e) == -1)
		return (-1);
	c->acl.set = 1;
	c->acl.dflt = ACL_NONE;
	if ((v = json_object_get(j, "default")) != NULL &&
	    (!json_is_string(v) || acl_class_parse(json_string_value(v),
	    &c->acl.dflt) == -1))
		return (config_fail(e, "acl.default", "acl.default must be "
		    "none, read, write, control or admin"));
	if ((v = json_object_get(j, "users")) != NULL &&
	    config_acl_map(&c->acl, v, 0, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "groups")) != NULL &&
	    config_acl_map(&c->acl, v, 1, e) == -1)
		return (-1);
	return (0);
}

static int
config_socket_mode(struct config *c, const json_t *v, struct config_err *e)
{
	char		*end;
	long		 m = -1;

	if (json_is_string(v)) {
		m = strtol(json_string_value(v), &end, 8);
		if (*json_string_value(v) == '\0' || *end != '\0')
			m = -1;
	} else if (json_is_integer(v))
		m = (long)json_integer_value(v);
	if (m < 0 || m > 0777)
		return (config_fail(e, "socket_mode", "socket_mode must be an "
		    "octal string such as \"0660\""));
	c->socket_mode = (int)m;
	return (0);
}

/* socket_group: a name or a gid, resolved here so -n can check it. */
static int
config_socket_group(struct config *c, const json_t *v, struct config_err *e)
{
	struct group	*gr;
	char		*end;
	unsigned long	 id;

	if (config_string(v, "socket_group", 256, &c->socket_group, e) == -1)
		return (-1);
	errno = 0;
	id = strtoul(c->socket_group, &end, 10);
	if (*c->socket_group != '\0' && *end == '\0' && errno == 0)
		c->socket_gid = (int64_t)id;
	else if ((gr = getgrnam(c->socket_group)) != NULL)
		c->socket_gid = gr->gr_gid;
	else
		return (config_fail(e, "socket_group", "no group named %s",
		    c->socket_group));
	return (0);
}

/* The parts that build on each other: defaults, templates, children. */
static int
config_parse_specs(struct config *c, const json_t *j, struct config_err *e)
{
	const json_t	*el;
	json_t		*v;
	size_t		 i;
	char		 sub[64];

	if ((v = json_object_get(j, "defaults")) != NULL) {
		if (config_partial(NULL, v, "defaults", e) == -1)
			return (-1);
		c->tpl.defaults = json_incref(v);
	}
	if ((v = json_object_get(j, "templates")) != NULL &&
	    config_templates(c, v, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "children")) != NULL) {
		if (!json_is_array(v))
			return (config_fail(e, "children",
			    "children must be an array"));
		json_array_foreach(v, i, el) {
			snprintf(sub, sizeof sub, "children.%zu", i);
			if (config_child_add(c, el, sub, e) == -1)
				return (-1);
		}
	}
	if ((v = json_object_get(j, "include")) != NULL &&
	    config_include(c, v, e) == -1)
		return (-1);
	return (0);
}

/*
 * The boot children's depends_on, all together: every name is a boot
 * child and there is no cycle (protocol §9.1).  A config stands on its
 * own, so a boot child may not depend on a row made at run time.
 */
static int
config_deps_check(struct config *c, struct config_err *e)
{
	struct deps_graph	*dg;
	struct deps_change	*ch;
	size_t			 i, which, edge;
	char			*cause = NULL;
	int			 rc;

	ch = xcalloc(c->nchildren + 1, sizeof *ch);
	for (i = 0; i < c->nchildren; i++)
		ch[i] = (struct deps_change){ .name = c->children[i]->name,
		    .edges = c->children[i]->deps,
		    .n = c->children[i]->ndeps };
	dg = deps_graph_new(0);
	rc = deps_check(dg, ch, c->nchildren, &which, &edge, &cause);
	deps_graph_free(dg);
	free(ch);
	if (rc == -1) {
		xasprintf(&e->field, "%s.depends_on.%zu", c->child_src[which],
		    edge);
		e->cause = cause;
	}
	return (rc);
}

/*
 * The boot children's member_of: a group of the config, and a member
 * that group takes (group_member_check).
 */
static int
config_groups_check(struct config *c, struct config_err *e)
{
	const struct group_conf	*gc;
	const struct childspec	*s;
	size_t			 i;
	char			*cause = NULL;

	for (i = 0; i < c->nchildren; i++) {
		s = c->children[i];
		if (s->member_of == NULL && s->significant) {
			xasprintf(&e->field, "%s.significant",
			    c->child_src[i]);
			e->cause = xstrdup("significant needs member_of (only "
			    "a group's member can be significant)");
			return (-1);
		}
		if (s->member_of == NULL)
			continue;
		if ((gc = group_conf_find(c->groups, c->ngroups,
		    s->member_of)) == NULL) {
			xasprintf(&e->field, "%s.member_of", c->child_src[i]);
			xasprintf(&e->cause, "no group %s in the config's "
			    "groups", s->member_of);
			return (-1);
		}
		if (group_member_check(gc, s->restart, s->significant,
		    &cause) == -1) {
			xasprintf(&e->field, "%s.significant",
			    c->child_src[i]);
			e->cause = cause;
			return (-1);
		}
	}
	return (0);
}

/* A boot child of scope cluster needs a "cluster" section. */
static int
config_cluster_scopes(struct config *c, struct config_err *e)
{
	size_t	i;
	char	*f;

	for (i = 0; i < c->nchildren && c->cluster == NULL; i++) {
		if (!c->children[i]->cluster)
			continue;
		xasprintf(&f, "%s.scope", c->child_src[i]);
		config_fail(e, f, "scope \"cluster\" needs a \"cluster\" "
		    "section in the config");
		free(f);
		return (-1);
	}
	return (0);
}

static int
config_parse(struct config *c, const json_t *j, struct config_err *e)
{
	static const char	*keys[] = { "zone", "socket", "children",
	    "max_connections", "max_request_bytes", "max_children",
	    "max_attrs", "log_level", "snapshot", "defaults", "templates",
	    "include", "acl", "socket_mode", "socket_group", "max_starting",
	    "max_mirror_bytes", "max_output_bytes", "max_attr_value_bytes",
	    "max_attr_bytes", "max_connections_per_uid",
	    "reserved_connections", "cgroup", "adopt_on_restart", "groups",
	    "cluster", NULL };
	const char		*k, **kp;
	json_t			*v;
	int64_t			 n;

	if (!json_is_object(j))
		return (config_fail(e, "", "the config must be a JSON object"));
	json_object_foreach((json_t *)j, k, v) {
		for (kp = keys; *kp != NULL && strcmp(*kp, k) != 0; kp++)
			;
		if (*kp == NULL)
			return (config_fail(e, k, "unknown key %s", k));
	}
	if ((v = json_object_get(j, "zone")) != NULL &&
	    config_string(v, "zone", 64, &c->zone, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "socket")) != NULL &&
	    config_string(v, "socket", PATH_MAX, &c->socket, e) == -1)
		return (-1);
	n = c->lim.max_connections;
	if (config_limit(j, "max_connections", 1, 100000, &n, e) == -1)
		return (-1);
	c->lim.max_connections = (int)n;
	n = c->lim.max_request_bytes;
	if (config_limit(j, "max_request_bytes", 64, 64 << 20, &n, e) == -1)
		return (-1);
	c->lim.max_request_bytes = (size_t)n;
	n = c->lim.max_children;
	if (config_limit(j, "max_children", 1, 10000000, &n, e) == -1)
		return (-1);
	c->lim.max_children = (int)n;
	n = c->lim.max_starting;
	if (config_limit(j, "max_starting", 0, 1000000, &n, e) == -1)
		return (-1);
	c->lim.max_starting = (int)n;
	n = c->lim.max_attrs;
	if (config_limit(j, "max_attrs", 1, 1000000, &n, e) == -1)
		return (-1);
	c->lim.max_attrs = (int)n;
	n = (int64_t)c->lim.max_mirror_bytes;
	if (config_limit(j, "max_mirror_bytes", 0, SHM_MAX_BYTES, &n, e) ==
	    -1)
		return (-1);
	if (n != 0 && n < SHM_MIN_BYTES)
		return (config_fail(e, "max_mirror_bytes", "max_mirror_bytes "
		    "must be 0 (no mirror) or %u to %u", SHM_MIN_BYTES,
		    SHM_MAX_BYTES));
	c->lim.max_mirror_bytes = (size_t)n;
	if (config_conn_limits(c, j, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "log_level")) != NULL) {
		if (!json_is_string(v))
			return (config_fail(e, "log_level", "log_level must be "
			    "warning, info or debug"));
		if (strcmp(json_string_value(v), "warning") == 0)
			c->log_level = LOG_LVL_WARN;
		else if (strcmp(json_string_value(v), "info") == 0)
			c->log_level = LOG_LVL_INFO;
		else if (strcmp(json_string_value(v), "debug") == 0)
			c->log_level = LOG_LVL_DEBUG;
		else
			return (config_fail(e, "log_level", "log_level must be "
			    "warning, info or debug"));
	}
	if ((v = json_object_get(j, "groups")) != NULL &&
	    group_conf_parse(v, &c->groups, &c->ngroups, &e->field,
	    &e->cause) == -1)
		return (-1);
	if (config_parse_specs(c, j, e) == -1 || config_deps_check(c, e) == -1 ||
	    config_groups_check(c, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "acl")) != NULL &&
	    config_acl(c, v, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "socket_mode")) != NULL &&
	    config_socket_mode(c, v, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "socket_group")) != NULL &&
	    config_socket_group(c, v, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "snapshot")) != NULL &&
	    config_snapshot(c, v, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "cgroup")) != NULL &&
	    config_cgroup(c, v, e) == -1)
		return (-1);
	if ((v = json_object_get(j, "adopt_on_restart")) != NULL) {
		if (!json_is_boolean(v))
			return (config_fail(e, "adopt_on_restart",
			    "adopt_on_restart must be true or false"));
		c->adopt_on_restart = json_is_true(v);
	}
	if ((v = json_object_get(j, "cluster")) != NULL &&
	    config_cluster(c, v, e) == -1)
		return (-1);
	return (config_cluster_scopes(c, e));
}

struct config *
config_load(const char *path, char **field, char **cause)
{
	struct config_err	 e = { NULL, NULL };
	struct config		*c;
	json_t			*j;

	c = xcalloc(1, sizeof *c);
	config_default_limits(&c->lim);
	c->log_level = LOG_LVL_INFO;
	c->socket_mode = -1;
	c->socket_gid = -1;
	if ((j = config_read(path, cause)) == NULL) {
		*field = xstrdup("");
		config_free(c);
		return (NULL);
	}
	if (config_parse(c, j, &e) == -1) {
		json_decref(j);
		config_free(c);
		*field = e.field;
		*cause = e.cause;
		return (NULL);
	}
	json_decref(j);
	return (c);
}

/* The default socket path of zone for euid, or NULL + *cause. */
static char *
config_socket_default(const struct config_socket_in *in, const char *zone,
    char **cause)
{
	char	*path;

	if (in->euid == 0)
		xasprintf(&path, "/run/gtd/%s.sock", zone);
	else if (in->xdg != NULL && *in->xdg == '/')
		xasprintf(&path, "%s/gtd/%s.sock", in->xdg, zone);
	else {
		xasprintf(cause, "no socket path for uid %u: XDG_RUNTIME_DIR is "
		    "not set to an absolute path; give -s PATH or \"socket\" "
		    "in the config", in->euid);
		return (NULL);
	}
	return (path);
}

char *
config_socket_path(const struct config_socket_in *in, char **cause)
{
	const char	*zone;

	if (in->sockopt != NULL && *in->sockopt != '\0')
		return (xstrdup(in->sockopt));
	if (in->cf != NULL && in->cf->socket != NULL)
		return (xstrdup(in->cf->socket));
	/* An explicit zone beats an inherited $GTD_SOCKET. */
	if (in->zoneopt != NULL)
		return (config_socket_default(in, in->zoneopt, cause));
	if (in->env_socket != NULL && *in->env_socket != '\0')
		return (xstrdup(in->env_socket));
	zone = in->cf != NULL && in->cf->zone != NULL ? in->cf->zone :
	    GT_DEFAULT_ZONE;
	return (config_socket_default(in, zone, cause));
}

void
config_free(struct config *c)
{
	size_t	i;

	if (c == NULL)
		return;
	free(c->zone);
	free(c->socket);
	free(c->snapshot_path);
	free(c->cgroup);
	if (c->cluster != NULL) {
		spec_strv_free(c->cluster->etcd);
		free(c->cluster->node);
		free(c->cluster);
	}
	for (i = 0; i < c->nchildren; i++) {
		spec_free(c->children[i]);
		free(c->child_src[i]);
	}
	free(c->children);
	free(c->child_src);
	spec_strv_free(c->names);
	spec_strv_free(c->texts);
	config_tpl_clear(&c->tpl);
	free(c->socket_group);
	free(c->acl.e);
	group_confs_free(c->groups, c->ngroups);
	free(c);
}
