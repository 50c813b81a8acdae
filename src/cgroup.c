/* SPDX-License-Identifier: MIT */
/*
 * cgroup: cgroup v2 containment for gtd's children (protocol 9.2); the
 * layout and the rules are in include/gt/cgroup.h.  A mechanism, like
 * spawn and childlog: it creates, fills, kills, watches and removes
 * cgroups and says why containment is off, and the core decides when.
 * Never logs, never blocks (cgroupfs and procfs answer from memory, and
 * emptiness arrives through inotify on the loop), never follows a
 * symlink inside the hierarchy, and bounds every read.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/cgroup.h"
#include "gt/xmalloc.h"

#ifndef SYS_clone3
#define SYS_clone3		435	/* the same on every architecture */
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open		434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal	424
#endif

/* clone3's argument (linux/sched.h; not included: it clashes with glibc). */
struct cgroup_clone_args {
	uint64_t	flags;
	uint64_t	pidfd;
	uint64_t	child_tid;
	uint64_t	parent_tid;
	uint64_t	exit_signal;
	uint64_t	stack;
	uint64_t	stack_size;
	uint64_t	tls;
	uint64_t	set_tid;
	uint64_t	set_tid_size;
	uint64_t	cgroup;
};
#define CGROUP_CLONE_VM		0x100ULL
#define CGROUP_CLONE_FILES	0x400ULL
#define CGROUP_CLONE_CLEARTID	0x200000ULL
#define CGROUP_CLONE_PIDFD	0x1000ULL
#define CGROUP_CLONE_PARENT	0x8000ULL
#define CGROUP_CLONE_INTO	0x200000000ULL

#define CGROUP_NCTRL		3	/* bits of CGROUP_ALL */
#define CGROUP_BUDGET		4096	/* directories one walk may visit */
#define CGROUP_KILL_PASSES	8	/* of the kill without cgroup.kill */
#define CGROUP_EVENTS_READS	16	/* inotify reads per loop callback */
#define CGROUP_MKDIR_TRIES	100	/* ids tried past EEXIST */

struct cgroup {
	struct ev_loop		*loop;		/* weak; NULL: no waits */
	int			 mntfd;		/* O_PATH: the mount point */
	int			 basefd;	/* O_PATH: the base */
	char			*path;		/* owned: base, file system */
	char			*cgpath;	/* owned: base, "0::" form */
	unsigned		 ctrl;		/* enabled for the children */
	char			*why[CGROUP_NCTRL];	/* owned: why not */
	bool			 moved;		/* gtd went into CGROUP_LEAF */
	bool			 owns_base;	/* gtd-<instance>: gtd made it */
	bool			 fake;
	cgroup_made_cb		*made;
	void			*arg;
	unsigned long		 next_id;
	/* The emptiness watcher. */
	int			 ino;		/* inotify fd; -1 none yet */
	bool			 ino_failed;	/* poll from now on */
	ev_io			 inow;
	ev_timer		 pollw;
	struct cgroup_child	*waiting;	/* list of waiters (weak) */
	int			 npolled;	/* waiters without a watch */
	unsigned		 scan;		/* generation of a scan */
};

struct cgroup_child {
	struct cgroup		*cg;		/* weak: outlives its children */
	char			*dir;		/* owned: name@id */
	char			*path;		/* owned: file system */
	char			*cgpath;	/* owned: "0::" form */
	int			 fd;		/* O_PATH directory */
	/* Waiting for populated 0. */
	bool			 waiting;
	int			 wd;		/* inotify watch, or -1: polled */
	bool			 dirty;		/* an event came for wd */
	unsigned		 scan;
	cgroup_empty_cb		*cb;
	void			*arg;
	struct cgroup_child	*prev, *next;	/* in cg->waiting */
};

/* Where the hierarchy is: cgroup_locate's result. */
struct cgroup_where {
	char	*mount;
	char	*mroot;
	char	*own;
	char	*path;		/* the configured base, resolved; or NULL */
	char	*pathcg;	/* its "0::" form */
};

static const unsigned	cgroup_bits[CGROUP_NCTRL] = {
	CGROUP_CPU, CGROUP_MEMORY, CGROUP_PIDS
};

static void	cgroup_ino_cb(struct ev_loop *, ev_io *, int);
static void	cgroup_poll_cb(struct ev_loop *, ev_timer *, int);
static void	cgroup_scan(struct cgroup *, bool);
/* One walk over a cgroup tree that signals its processes. */
struct cgroup_walk {
	int	sig;
	int	budget;		/* directories left to visit */
	int	found;		/* pids signalled */
};

static int	cgroup_procs_walk(int, const char *, int, struct cgroup_walk *);
static int	cgroup_fake_clear(int);

/*
 * Small helpers: files relative to a directory descriptor.
 */

/* Read a small file (at most size - 1 bytes kept), NUL-terminated. */
static ssize_t
cgroup_read_at(int dirfd, const char *file, char *buf, size_t size)
{
	size_t	len = 0;
	ssize_t	n;
	int	fd, saved;

	if ((fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) ==
	    -1)
		return (-1);
	while (len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return (-1);
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return ((ssize_t)len);
}

/* One write of s (cgroupfs takes a value per write).  0 or -1. */
static int
cgroup_write_at(int dirfd, const char *file, const char *s)
{
	size_t	len = strlen(s);
	ssize_t	n;
	int	fd, saved;

	if ((fd = openat(dirfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return (-1);
	do
		n = write(fd, s, len);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return (-1);
	}
	if ((size_t)n != len) {
		errno = EIO;
		return (-1);
	}
	return (0);
}

/*
 * Open rel below dirfd (O_PATH|O_DIRECTORY), one component at a time
 * and none of them a symlink; "" is dirfd itself.  ".." is refused.
 */
static int
cgroup_walk(int dirfd, const char *rel)
{
	const char	*p = rel, *e;
	char		 comp[NAME_MAX + 1];
	int		 fd, next;

	if ((fd = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return (-1);
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = strchrnul(p, '/');
		if ((size_t)(e - p) > NAME_MAX || (e - p == 2 &&
		    strncmp(p, "..", 2) == 0)) {
			close(fd);
			errno = (e - p > NAME_MAX) ? ENAMETOOLONG : EINVAL;
			return (-1);
		}
		memcpy(comp, p, e - p);
		comp[e - p] = '\0';
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(fd);
		if (next == -1)
			return (-1);
		fd = next;
		p = e;
	}
	return (fd);
}

/* Read a /proc file of any size up to max bytes, xmalloc'd. */
static char *
cgroup_slurp(const char *path, size_t max)
{
	size_t	 len = 0, size = 8192;
	char	*buf;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (NULL);
	buf = xmalloc(size);
	for (;;) {
		if (len == size - 1) {
			if (size >= max) {
				errno = EFBIG;
				goto fail;
			}
			size *= 2;
			buf = xreallocarray(buf, 1, size);
		}
		n = read(fd, buf + len, size - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return (buf);
fail:
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return (NULL);
}

/* a joined with b (a cgroup path with a rest from cgroup_path_under). */
static char *
cgroup_join_path(const char *a, const char *b)
{
	char	*s;

	if (*b == '\0')
		return (xstrdup(a));
	if (strcmp(a, "/") == 0)
		return (xstrdup(b));
	xasprintf(&s, "%s%s", a, b);
	return (s);
}

/*
 * Parsers.
 */

int
cgroup_parse_self(const char *text, char **own)
{
	const char	*p = text, *e;

	while (*p != '\0') {
		e = strchrnul(p, '\n');
		if (strncmp(p, "0::", 3) == 0) {
			p += 3;
			if (*p != '/') {
				errno = EINVAL;
				return (-1);
			}
			*own = xstrndup(p, e - p);
			return (0);
		}
		p = *e == '\n' ? e + 1 : e;
	}
	errno = ENOENT;
	return (-1);
}

/* A mountinfo field, its octal escapes (\040) undone.  xmalloc'd. */
static char *
cgroup_unescape(const char *p, size_t len)
{
	char	*s = xmalloc(len + 1), *q = s;
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\\' && i + 3 < len &&
		    p[i + 1] >= '0' && p[i + 1] <= '3' &&
		    p[i + 2] >= '0' && p[i + 2] <= '7' &&
		    p[i + 3] >= '0' && p[i + 3] <= '7') {
			*q++ = (char)((p[i + 1] - '0') * 64 +
			    (p[i + 2] - '0') * 8 + (p[i + 3] - '0'));
			i += 3;
		} else
			*q++ = p[i];
	}
	*q = '\0';
	return (s);
}

/*
 * The fields of one mountinfo line (end: its end): the 4th (root), the
 * 5th (mount point) and the one after " - " (fstype).  0 or -1.
 */
static int
cgroup_mountinfo_line(const char *p, const char *end, const char *f[3],
    size_t flen[3])
{
	const char	*q, *sep;
	int		 i;

	for (i = 0; i < 5; i++) {	/* id, parent, dev, root, mount */
		q = memchr(p, ' ', end - p);
		if (q == NULL)
			return (-1);
		if (i >= 3) {
			f[i - 3] = p;
			flen[i - 3] = q - p;
		}
		p = q + 1;
	}
	/* Options, optional fields, " - ", then the file system type. */
	for (sep = p; sep + 3 <= end; sep++)
		if (memcmp(sep, " - ", 3) == 0)
			break;
	if (sep + 3 > end)
		return (-1);
	p = sep + 3;
	q = memchr(p, ' ', end - p);
	f[2] = p;
	flen[2] = (q != NULL ? q : end) - p;
	return (0);
}

int
cgroup_parse_mountinfo(const char *text, struct cgroup_mnt **v, size_t *n)
{
	const char	*p = text, *e, *f[3];
	size_t		 flen[3];

	*v = NULL;
	*n = 0;
	for (; *p != '\0'; p = *e == '\n' ? e + 1 : e) {
		e = strchrnul(p, '\n');
		if (cgroup_mountinfo_line(p, e, f, flen) == -1 ||
		    flen[2] != 7 || memcmp(f[2], "cgroup2", 7) != 0)
			continue;
		*v = xreallocarray(*v, *n + 1, sizeof **v);
		(*v)[*n].root = cgroup_unescape(f[0], flen[0]);
		(*v)[*n].mount = cgroup_unescape(f[1], flen[1]);
		(*n)++;
	}
	return (0);
}

void
cgroup_mnt_free(struct cgroup_mnt *v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(v[i].mount);
		free(v[i].root);
	}
	free(v);
}

const char *
cgroup_path_under(const char *path, const char *prefix)
{
	size_t	n = strlen(prefix);

	while (n > 1 && prefix[n - 1] == '/')
		n--;			/* "/a/" is "/a" */
	if (n == 1 && prefix[0] == '/')
		return (path[0] == '/' ? (strcmp(path, "/") == 0 ? "" : path) :
		    NULL);
	if (strncmp(path, prefix, n) != 0)
		return (NULL);
	if (path[n] == '\0')
		return (path + n);
	if (path[n] != '/')
		return (NULL);		/* "/ab" is not under "/a" */
	return (path[n + 1] == '\0' ? path + n + 1 : path + n);
}

/* name with bytes outside [A-Za-z0-9_-] as %XX, cut to max bytes. */
static char *
cgroup_escape(const char *name, size_t max)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	char			*s = xmalloc(max + 1), *q = s;

	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (isascii(*p) && (isalnum(*p) || *p == '_' || *p == '-')) {
			if ((size_t)(q - s) + 1 > max)
				break;
			*q++ = (char)*p;
			continue;
		}
		if ((size_t)(q - s) + 3 > max)
			break;		/* never half an escape */
		*q++ = '%';
		*q++ = hex[*p >> 4];
		*q++ = hex[*p & 0xf];
	}
	*q = '\0';
	return (s);
}

char *
cgroup_dirname(const char *name, unsigned long id)
{
	char	*e, *s;

	e = cgroup_escape(name, CGROUP_NAME_MAX);
	xasprintf(&s, "%s@%lu", e, id);
	free(e);
	return (s);
}

/* Has dir the form of a cgroup_dirname?  (Escaped name, '@', digits.) */
static bool
cgroup_is_child_dir(const char *dir)
{
	const char	*at = strrchr(dir, '@'), *p;

	if (at == NULL || at == dir || at[1] == '\0')
		return (false);
	for (p = dir; p < at; p++)
		if (!isascii((unsigned char)*p) ||
		    (!isalnum((unsigned char)*p) && strchr("_-%", *p) == NULL))
			return (false);
	for (p = at + 1; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return (false);
	return (true);
}

/* An unsigned decimal filling [p, e).  0, or -1 with EINVAL/ERANGE. */
static int
cgroup_parse_u64(const char *p, const char *e, uint64_t *val)
{
	uint64_t	v = 0;

	if (p == e) {
		errno = EINVAL;
		return (-1);
	}
	for (; p < e; p++) {
		if (*p < '0' || *p > '9') {
			errno = EINVAL;
			return (-1);
		}
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			errno = ERANGE;
			return (-1);
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*val = v;
	return (0);
}

int
cgroup_parse_keyed(const char *text, const char *key, uint64_t *val)
{
	const char	*p = text, *e;
	size_t		 klen = strlen(key);

	for (; *p != '\0'; p = *e == '\n' ? e + 1 : e) {
		e = strchrnul(p, '\n');
		if ((size_t)(e - p) > klen && strncmp(p, key, klen) == 0 &&
		    p[klen] == ' ')
			return (cgroup_parse_u64(p + klen + 1, e, val));
	}
	errno = ENOENT;
	return (-1);
}

unsigned
cgroup_parse_controllers(const char *text)
{
	const char	*p = text, *e;
	unsigned	 m = 0, b;
	size_t		 len;
	int		 i;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\n' &&
		    *e != '\t'; e++)
			;
		len = e - p;
		for (i = 0; i < CGROUP_NCTRL; i++) {
			b = cgroup_bits[i];
			if (strlen(cglimits_ctrl_name(b)) == len &&
			    strncmp(p, cglimits_ctrl_name(b), len) == 0)
				m |= b;
		}
		p = e;
	}
	return (m);
}

/* The CGROUP_* bits of a cgroup's controllers file; 0 if unreadable. */
static unsigned
cgroup_read_ctrl(int dirfd, const char *file)
{
	char	buf[CGROUP_FILE_MAX];

	if (cgroup_read_at(dirfd, file, buf, sizeof buf) == -1)
		return (0);
	return (cgroup_parse_controllers(buf));
}

static int
cgroup_bit_index(unsigned bit)
{
	int	i;

	for (i = 0; i < CGROUP_NCTRL; i++)
		if (cgroup_bits[i] == bit)
			return (i);
	return (-1);
}

/*
 * Locating the hierarchy.
 */

static void
cgroup_where_clear(struct cgroup_where *w)
{
	free(w->mount);
	free(w->mroot);
	free(w->own);
	free(w->path);
	free(w->pathcg);
	memset(w, 0, sizeof *w);
}

/* Is fd on a cgroup2 file system? */
static bool
cgroup_is_cg2(int fd)
{
	struct statfs	sfs;

	return (fstatfs(fd, &sfs) == 0 && sfs.f_type == CGROUP2_MAGIC);
}

/*
 * The configured path: resolved (the administrator's symlinks are
 * followed once, here), it must lie below a cgroup2 mount point; its
 * "0::" form is that mount's root joined with the rest.
 */
static int
cgroup_locate_path(const struct cgroup_mnt *v, size_t n, const char *path,
    struct cgroup_where *w, char **cause)
{
	const char	*rest, *best = NULL;
	char		*rp;
	size_t		 i, bi = 0;

	if ((rp = realpath(path, NULL)) == NULL) {
		xasprintf(cause, "cgroup %s: %s", path, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++) {
		rest = cgroup_path_under(rp, v[i].mount);
		if (rest != NULL && (best == NULL ||
		    strlen(v[i].mount) > strlen(v[bi].mount))) {
			best = rest;
			bi = i;
		}
	}
	if (best == NULL) {
		xasprintf(cause, "cgroup %s is not on a cgroup2 file system",
		    path);
		free(rp);
		return (-1);
	}
	w->mount = xstrdup(v[bi].mount);
	w->mroot = xstrdup(v[bi].root);
	w->pathcg = cgroup_join_path(v[bi].root, best);
	w->path = rp;
	return (0);
}

/*
 * gtd's own cgroup: the first cgroup2 mount whose root holds it and
 * that really is cgroup2 (another file system may sit on top of it).
 */
static int
cgroup_locate_own(const struct cgroup_mnt *v, size_t n,
    struct cgroup_where *w, char **cause)
{
	size_t	i;
	int	fd;

	for (i = 0; i < n; i++) {
		if (cgroup_path_under(w->own, v[i].root) == NULL)
			continue;
		if ((fd = open(v[i].mount, O_PATH | O_DIRECTORY |
		    O_CLOEXEC)) == -1)
			continue;
		if (cgroup_is_cg2(fd)) {
			close(fd);
			w->mount = xstrdup(v[i].mount);
			w->mroot = xstrdup(v[i].root);
			return (0);
		}
		close(fd);
	}
	xasprintf(cause, "gtd's cgroup %s is not reachable through a "
	    "cgroup2 mount (%zu in /proc/self/mountinfo)", w->own, n);
	return (-1);
}

/* Fill w from /proc/self: mountinfo and cgroup. */
static int
cgroup_discover(const char *path, struct cgroup_where *w, char **cause)
{
	struct cgroup_mnt	*v = NULL;
	size_t			 n = 0;
	char			*text;
	int			 rc = -1;

	if ((text = cgroup_slurp("/proc/self/cgroup", 65536)) == NULL) {
		xasprintf(cause, "/proc/self/cgroup: %s", strerror(errno));
		return (-1);
	}
	if (cgroup_parse_self(text, &w->own) == -1) {
		xasprintf(cause, "no cgroup2 hierarchy: /proc/self/cgroup has "
		    "no \"0::\" line");
		free(text);
		return (-1);
	}
	free(text);
	if ((text = cgroup_slurp("/proc/self/mountinfo",
	    CGROUP_PROC_MAX)) == NULL) {
		xasprintf(cause, "/proc/self/mountinfo: %s", strerror(errno));
		return (-1);
	}
	(void)cgroup_parse_mountinfo(text, &v, &n);	/* always 0 */
	free(text);
	if (n == 0)
		xasprintf(cause, "no cgroup2 file system is mounted");
	else if (path != NULL)
		rc = cgroup_locate_path(v, n, path, w, cause);
	else
		rc = cgroup_locate_own(v, n, w, cause);
	cgroup_mnt_free(v, n);
	return (rc);
}

/* Fill w from the options (a fake tree, or a caller that knows). */
static int
cgroup_locate(const struct cgroup_opts *o, struct cgroup_where *w,
    char **cause)
{
	struct cgroup_mnt	m;
	char			*rm;

	memset(w, 0, sizeof *w);
	if (o->mount == NULL)
		return (cgroup_discover(o->path, w, cause));
	if (o->own == NULL || o->own[0] != '/') {
		xasprintf(cause, "gtd's own cgroup is not known");
		return (-1);
	}
	w->own = xstrdup(o->own);
	if (o->path == NULL) {
		w->mount = xstrdup(o->mount);
		w->mroot = xstrdup(o->mroot != NULL ? o->mroot : "/");
		return (0);
	}
	if ((rm = realpath(o->mount, NULL)) == NULL) {
		xasprintf(cause, "%s: %s", o->mount, strerror(errno));
		return (-1);
	}
	m.mount = rm;
	m.root = (char *)(o->mroot != NULL ? o->mroot : "/");
	if (cgroup_locate_path(&m, 1, o->path, w, cause) == -1) {
		free(rm);
		return (-1);
	}
	free(rm);
	return (0);
}

/*
 * Setting up the base.
 */

/* mkdir name in dirfd (EEXIST is fine); the fake kernel fills it in. */
static int
cgroup_mkdir(struct cgroup *cg, int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0755) == -1)
		return (errno == EEXIST ? 0 : -1);
	if (cg->made != NULL)
		cg->made(dirfd, name, cg->arg);
	return (0);
}

static void
cgroup_set_why(struct cgroup *cg, unsigned bit, char *why)
{
	int	i = cgroup_bit_index(bit);

	if (i == -1 || cg->why[i] != NULL) {	/* keep the first reason */
		free(why);
		return;
	}
	cg->why[i] = why;
}

/*
 * Enable the controllers of want in dirfd's cgroup.subtree_control, one
 * write each so that one refusal does not hide the others; the reason of
 * each refusal is kept.  Returns what is enabled afterwards.
 */
static unsigned
cgroup_enable(struct cgroup *cg, int dirfd, const char *where,
    unsigned want)
{
	char		 buf[32], *why;
	unsigned	 have, bit;
	int		 i;

	have = cgroup_read_ctrl(dirfd, "cgroup.subtree_control");
	for (i = 0; i < CGROUP_NCTRL; i++) {
		bit = cgroup_bits[i];
		if (!(want & bit) || (have & bit))
			continue;
		snprintf(buf, sizeof buf, "+%s", cglimits_ctrl_name(bit));
		if (cgroup_write_at(dirfd, "cgroup.subtree_control", buf) ==
		    0) {
			have |= bit;
			continue;
		}
		xasprintf(&why, "the %s controller could not be enabled in "
		    "%s: %s%s", cglimits_ctrl_name(bit), where,
		    strerror(errno), errno == EBUSY ? " (processes live in "
		    "that cgroup itself)" : "");
		cgroup_set_why(cg, bit, why);
	}
	if (cg->fake)		/* no kernel reads the file back */
		return (have);
	return (cgroup_read_ctrl(dirfd, "cgroup.subtree_control"));
}

/*
 * Move gtd into dirfd/CGROUP_LEAF, so that dirfd's cgroup may enable
 * controllers for its children (no internal processes).  0 or -1 with
 * *cause.
 */
static int
cgroup_move_self(struct cgroup *cg, int dirfd, const char *where,
    char **cause)
{
	int	leaf, saved;

	if (cgroup_mkdir(cg, dirfd, CGROUP_LEAF) == -1 ||
	    (leaf = cgroup_walk(dirfd, CGROUP_LEAF)) == -1) {
		xasprintf(cause, "cannot create %s/%s: %s", where, CGROUP_LEAF,
		    strerror(errno));
		return (-1);
	}
	if (cgroup_write_at(leaf, "cgroup.procs", "0") == -1) {
		saved = errno;
		close(leaf);
		xasprintf(cause, "cannot move gtd into %s/%s: %s", where,
		    CGROUP_LEAF, strerror(saved));
		return (-1);
	}
	close(leaf);
	cg->moved = true;
	return (0);
}

/*
 * Controllers for the children of dirfd's cgroup, which holds gtd
 * itself when holds_self: enabled there, gtd moved out of the way first
 * if needed (the root cgroup may have processes and controllers both).
 */
static unsigned
cgroup_prepare(struct cgroup *cg, int dirfd, const char *where,
    bool holds_self)
{
	unsigned	 avail, have;
	bool		 root;
	char		*why = NULL;
	int		 i;

	avail = cgroup_read_ctrl(dirfd, "cgroup.controllers") & CGROUP_ALL;
	have = cgroup_read_ctrl(dirfd, "cgroup.subtree_control");
	/* Only the root cgroup has no cgroup.type. */
	root = faccessat(dirfd, "cgroup.type", F_OK, AT_EACCESS) == -1 &&
	    errno == ENOENT;
	if ((avail & ~have) != 0 && holds_self && !root &&
	    cgroup_move_self(cg, dirfd, where, &why) == -1) {
		for (i = 0; i < CGROUP_NCTRL; i++)
			if (avail & ~have & cgroup_bits[i])
				cgroup_set_why(cg, cgroup_bits[i],
				    xstrdup(why));
		free(why);
		return (have & CGROUP_ALL);
	}
	return (cgroup_enable(cg, dirfd, where, avail) & CGROUP_ALL);
}

/* A reason for each controller the children do not get. */
static void
cgroup_explain(struct cgroup *cg, unsigned avail, const char *where,
    bool root)
{
	unsigned	 bit;
	char		*why;
	int		 i;

	for (i = 0; i < CGROUP_NCTRL; i++) {
		bit = cgroup_bits[i];
		if ((cg->ctrl & bit) || cg->why[i] != NULL)
			continue;
		if (!(avail & bit) && root)
			xasprintf(&why, "the %s controller is not on the cgroup2 "
			    "hierarchy at %s (a v1 hierarchy may hold it)",
			    cglimits_ctrl_name(bit), where);
		else if (!(avail & bit))
			xasprintf(&why, "the %s controller is not delegated to "
			    "gtd's cgroup %s", cglimits_ctrl_name(bit), where);
		else
			xasprintf(&why, "the %s controller is not enabled for "
			    "the children of %s", cglimits_ctrl_name(bit),
			    cg->cgpath);
		cg->why[i] = why;
	}
}

/* May gtd create cgroups in dirfd's cgroup? 0, or -1 with *cause. */
static int
cgroup_check_write(int dirfd, const char *where, char **cause)
{
	if (faccessat(dirfd, ".", W_OK | X_OK, AT_EACCESS) == 0 &&
	    faccessat(dirfd, "cgroup.procs", W_OK, AT_EACCESS) == 0)
		return (0);
	xasprintf(cause, "gtd may not write its cgroup %s: %s (run gtd as "
	    "root, under a systemd unit with Delegate=yes, or set \"cgroup\" "
	    "in the configuration)", where, strerror(errno));
	return (-1);
}

/* The base is gtd's own cgroup O's child gtd-<instance>. */
static int
cgroup_setup_own(struct cgroup *cg, const struct cgroup_opts *o,
    const struct cgroup_where *w, char **cause)
{
	const char	*rest;
	char		*name = NULL, *inst;
	unsigned	 avail;
	bool		 root;
	int		 ofd = -1, rc = -1;

	if ((rest = cgroup_path_under(w->own, w->mroot)) == NULL) {
		xasprintf(cause, "gtd's cgroup %s is outside the cgroup2 mount "
		    "at %s (root %s)", w->own, w->mount, w->mroot);
		return (-1);
	}
	if ((ofd = cgroup_walk(cg->mntfd, rest)) == -1) {
		xasprintf(cause, "gtd's cgroup %s%s: %s", w->mount, rest,
		    strerror(errno));
		return (-1);
	}
	if (cgroup_check_write(ofd, w->own, cause) == -1)
		goto out;
	root = faccessat(ofd, "cgroup.type", F_OK, AT_EACCESS) == -1 &&
	    errno == ENOENT;
	avail = cgroup_read_ctrl(ofd, "cgroup.controllers");
	(void)cgroup_prepare(cg, ofd, w->own, true);	/* whys kept */
	inst = cgroup_escape(o->instance != NULL ? o->instance : "default",
	    CGROUP_NAME_MAX);
	xasprintf(&name, "gtd-%s", inst);
	free(inst);
	if (cgroup_mkdir(cg, ofd, name) == -1 ||
	    (cg->basefd = cgroup_walk(ofd, name)) == -1) {
		xasprintf(cause, "cannot create the cgroup %s/%s: %s", w->own,
		    name, strerror(errno));
		goto out;
	}
	cg->owns_base = true;
	xasprintf(&cg->path, "%s%s/%s", w->mount, rest, name);
	xasprintf(&cg->cgpath, "%s/%s", strcmp(w->own, "/") == 0 ? "" :
	    w->own, name);
	cg->ctrl = cgroup_prepare(cg, cg->basefd, cg->cgpath, false);
	cgroup_explain(cg, avail, root ? w->mount : w->own, root);
	rc = 0;
out:
	free(name);
	if (ofd != -1)
		close(ofd);
	return (rc);
}

/* The base is the configured directory. */
static int
cgroup_setup_path(struct cgroup *cg, const struct cgroup_opts *o,
    const struct cgroup_where *w, char **cause)
{
	const char	*rest;
	unsigned	 avail;
	int		 fd;

	/* Resolved already: open it below the mount, without symlinks. */
	if ((rest = cgroup_path_under(w->path, w->mount)) == NULL ||
	    (fd = cgroup_walk(cg->mntfd, rest)) == -1) {
		xasprintf(cause, "cgroup %s: %s", o->path, rest == NULL ?
		    "outside its mount" : strerror(errno));
		return (-1);
	}
	cg->basefd = fd;
	if (!o->fake && !cgroup_is_cg2(fd)) {
		xasprintf(cause, "cgroup %s is not a directory of a cgroup2 "
		    "file system", o->path);
		return (-1);
	}
	if (cgroup_check_write(fd, w->pathcg, cause) == -1)
		return (-1);
	cg->path = xstrdup(w->path);
	cg->cgpath = xstrdup(w->pathcg);
	avail = cgroup_read_ctrl(fd, "cgroup.controllers");
	cg->ctrl = cgroup_prepare(cg, fd, cg->cgpath,
	    strcmp(w->own, w->pathcg) == 0);
	cgroup_explain(cg, avail, cg->cgpath, false);
	return (0);
}

struct cgroup *
cgroup_open(const struct cgroup_opts *o, char **cause)
{
	struct cgroup		*cg;
	struct cgroup_where	 w;
	int			 rc;

	cg = xcalloc(1, sizeof *cg);
	cg->mntfd = cg->basefd = cg->ino = -1;
	cg->loop = o->loop;
	cg->fake = o->fake;
	cg->made = o->made;
	cg->arg = o->arg;
	cg->next_id = 1;
	if (cgroup_locate(o, &w, cause) == -1) {
		cgroup_where_clear(&w);	/* what it found before failing */
		cgroup_free(cg);
		return (NULL);
	}
	if ((cg->mntfd = open(w.mount, O_PATH | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (!o->fake && !cgroup_is_cg2(cg->mntfd))) {
		xasprintf(cause, "%s: %s", w.mount, cg->mntfd == -1 ?
		    strerror(errno) : "not a cgroup2 file system");
		rc = -1;
	} else if (o->path != NULL)
		rc = cgroup_setup_path(cg, o, &w, cause);
	else
		rc = cgroup_setup_own(cg, o, &w, cause);
	cgroup_where_clear(&w);
	if (rc == -1) {
		cgroup_free(cg);
		return (NULL);
	}
	ev_init(&cg->inow, cgroup_ino_cb);
	cg->inow.data = cg;
	ev_init(&cg->pollw, cgroup_poll_cb);
	cg->pollw.data = cg;
	return (cg);
}

void
cgroup_free(struct cgroup *cg)
{
	int	i;

	if (cg == NULL)
		return;
	assert(cg->waiting == NULL);	/* children are freed first */
	if (cg->loop != NULL) {
		ev_io_stop(cg->loop, &cg->inow);
		ev_timer_stop(cg->loop, &cg->pollw);
	}
	if (cg->ino != -1)
		close(cg->ino);
	if (cg->basefd != -1)
		close(cg->basefd);
	if (cg->mntfd != -1)
		close(cg->mntfd);
	for (i = 0; i < CGROUP_NCTRL; i++)
		free(cg->why[i]);
	free(cg->path);
	free(cg->cgpath);
	free(cg);
}

const char *
cgroup_path(const struct cgroup *cg)
{
	return (cg->path);
}

const char *
cgroup_cgpath(const struct cgroup *cg)
{
	return (cg->cgpath);
}

unsigned
cgroup_controllers(const struct cgroup *cg)
{
	return (cg->ctrl);
}

const char *
cgroup_why(unsigned ctrl, void *arg)
{
	const struct cgroup	*cg = arg;
	int			 i = cgroup_bit_index(ctrl);

	if (i == -1 || (cg->ctrl & ctrl))
		return (NULL);
	return (cg->why[i]);
}

bool
cgroup_moved(const struct cgroup *cg)
{
	return (cg->moved);
}

/*
 * Directories.
 */

/* A readable descriptor of dirfd/name for readdir, or -1. */
static DIR *
cgroup_opendir(int dirfd, const char *name)
{
	DIR	*d;
	int	 fd, saved;

	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return (NULL);
	if ((d = fdopendir(fd)) == NULL) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return (d);
}

/* Is the entry a directory (not a symlink to one)? */
static bool
cgroup_is_dir(DIR *d, const struct dirent *de)
{
	struct stat	st;

	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return (false);
	if (de->d_type != DT_UNKNOWN)
		return (de->d_type == DT_DIR);
	return (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ==
	    0 && S_ISDIR(st.st_mode));
}

int
cgroup_leftovers(struct cgroup *cg, size_t max, char ***names, size_t *n)
{
	struct dirent	*de;
	DIR		*d;

	*names = NULL;
	*n = 0;
	if ((d = cgroup_opendir(cg->basefd, ".")) == NULL)
		return (-1);
	while (*n < max && (de = readdir(d)) != NULL) {
		if (!cgroup_is_dir(d, de) || !cgroup_is_child_dir(de->d_name))
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof **names);
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	return (0);
}

/*
 * rmdir dirfd/name, its sub-cgroups first (a child running as root may
 * make some), depth and count bounded.  In a fake tree the interface
 * files are plain files: they go too.
 */
static int
cgroup_rmtree(struct cgroup *cg, int dfd, const char *name, int depth,
    int *budget)
{
	struct dirent	*de;
	DIR		*d;
	int		 saved;

	if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
		return (0);
	if ((errno != EBUSY && errno != ENOTEMPTY) || depth >=
	    CGROUP_DEPTH_MAX || --*budget < 0)
		return (-1);
	saved = errno;
	if ((d = cgroup_opendir(dfd, name)) == NULL)
		return (-1);
	if (cg->fake)
		(void)cgroup_fake_clear(dirfd(d));	/* rmdir tells */
	while ((de = readdir(d)) != NULL)
		if (cgroup_is_dir(d, de))
			(void)cgroup_rmtree(cg, dirfd(d), de->d_name,
			    depth + 1, budget);	/* the rmdir below tells */
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
		return (0);
	if (errno == ENOTEMPTY)
		errno = saved;
	return (-1);
}

/* A fake tree's interface files are plain files: remove them. */
static int
cgroup_fake_clear(int dfd)
{
	struct dirent	*de;
	DIR		*d;

	if ((d = cgroup_opendir(dfd, ".")) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (de->d_type == DT_REG)
			(void)unlinkat(dirfd(d), de->d_name, 0); /* rmdir tells */
	closedir(d);
	return (0);
}

int
cgroup_remove_base(struct cgroup *cg)
{
	int	pfd, rc, saved;

	if (!cg->owns_base)
		return (0);		/* the administrator's directory */
	if (cg->fake)
		(void)cgroup_fake_clear(cg->basefd);	/* rmdir tells */
	/* Through the base's parent: ".." of its descriptor, no path. */
	if ((pfd = openat(cg->basefd, "..", O_PATH | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return (-1);
	rc = unlinkat(pfd, strrchr(cg->path, '/') + 1, AT_REMOVEDIR);
	saved = errno;
	close(pfd);
	errno = saved;
	return (rc);
}

/*
 * A child's cgroup.
 */

static struct cgroup_child *
cgroup_child_alloc(struct cgroup *cg, const char *dir, int fd)
{
	struct cgroup_child	*cc = xcalloc(1, sizeof *cc);

	cc->cg = cg;
	cc->dir = xstrdup(dir);
	cc->fd = fd;
	cc->wd = -1;
	xasprintf(&cc->path, "%s/%s", cg->path, dir);
	xasprintf(&cc->cgpath, "%s/%s", strcmp(cg->cgpath, "/") == 0 ? "" :
	    cg->cgpath, dir);
	return (cc);
}

struct cgroup_child *
cgroup_child_new(struct cgroup *cg, const char *name,
    const struct cglimits *l, char **cause)
{
	struct cgroup_child	*cc;
	char			*dir = NULL;
	int			 i, fd, saved;

	for (i = 0; i < CGROUP_MKDIR_TRIES; i++) {
		free(dir);
		dir = cgroup_dirname(name, cg->next_id++);
		if (mkdirat(cg->basefd, dir, 0755) == 0)
			break;
		if (errno != EEXIST) {
			i = CGROUP_MKDIR_TRIES;
			break;
		}
	}
	if (i == CGROUP_MKDIR_TRIES)
		goto fail;		/* errno: why the last mkdirat failed */
	if (cg->made != NULL)
		cg->made(cg->basefd, dir, cg->arg);
	if ((fd = openat(cg->basefd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		saved = errno;
		(void)unlinkat(cg->basefd, dir, AT_REMOVEDIR);	/* ours */
		errno = saved;
		goto fail;
	}
	cc = cgroup_child_alloc(cg, dir, fd);
	free(dir);
	if (l != NULL && cgroup_child_limits(cc, l, cause) == -1) {
		(void)cgroup_child_remove(cc);	/* empty: nothing ran */
		cgroup_child_free(cc);
		return (NULL);
	}
	return (cc);
fail:
	xasprintf(cause, "cannot create the cgroup %s/%s: %s", cg->path,
	    dir, strerror(errno));
	free(dir);
	return (NULL);
}

struct cgroup_child *
cgroup_child_open(struct cgroup *cg, const char *dir, char **cause)
{
	int	fd;

	if (!cgroup_is_child_dir(dir)) {
		xasprintf(cause, "%s: not a child cgroup's name", dir);
		return (NULL);
	}
	if ((fd = openat(cg->basefd, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s/%s: %s", cg->path, dir, strerror(errno));
		return (NULL);
	}
	return (cgroup_child_alloc(cg, dir, fd));
}

void
cgroup_child_free(struct cgroup_child *cc)
{
	if (cc == NULL)
		return;
	cgroup_child_unwait(cc);
	if (cc->fd != -1)
		close(cc->fd);
	free(cc->dir);
	free(cc->path);
	free(cc->cgpath);
	free(cc);
}

int
cgroup_child_fd(const struct cgroup_child *cc)
{
	return (cc->fd);
}

const char *
cgroup_child_dir(const struct cgroup_child *cc)
{
	return (cc->dir);
}

const char *
cgroup_child_path(const struct cgroup_child *cc)
{
	return (cc->path);
}

const char *
cgroup_child_cgpath(const struct cgroup_child *cc)
{
	return (cc->cgpath);
}

int
cgroup_limits_write(int dirfd, const struct cglimits *l, char **cause)
{
	struct cglimit_file	f[CGLIMITS_NFILES];
	size_t			i, n;

	n = cglimits_files(l, f);
	for (i = 0; i < n; i++) {
		if (cgroup_write_at(dirfd, f[i].file, f[i].value) == 0)
			continue;
		if (errno == ENOENT)
			xasprintf(cause, "%s: the %s controller is not enabled "
			    "in this cgroup", f[i].file,
			    cglimits_ctrl_name(f[i].ctrl));
		else
			xasprintf(cause, "%s: cannot write \"%s\": %s",
			    f[i].file, f[i].value, strerror(errno));
		return (-1);
	}
	return (0);
}

int
cgroup_child_limits(struct cgroup_child *cc, const struct cglimits *l,
    char **cause)
{
	char	*c = NULL;

	if (cgroup_limits_write(cc->fd, l, &c) == 0)
		return (0);
	xasprintf(cause, "%s/%s", cc->path, c);
	free(c);
	return (-1);
}

/*
 * Processes of a cgroup.
 */

/*
 * Is the process of pidfd (pid) in the cgroup cgpath or below?  Read
 * after the pidfd was opened, and the answer is about that process as
 * long as it is alive (which the signal through the pidfd then checks).
 */
static bool
cgroup_pid_inside(pid_t pid, const char *cgpath)
{
	char	 file[64], buf[CGROUP_FILE_MAX], *own = NULL;
	bool	 in;

	snprintf(file, sizeof file, "/proc/%ld/cgroup", (long)pid);
	if (cgroup_read_at(AT_FDCWD, file, buf, sizeof buf) == -1 ||
	    cgroup_parse_self(buf, &own) == -1)
		return (false);
	in = cgroup_path_under(own, cgpath) != NULL;
	free(own);
	return (in);
}

/*
 * Signal one pid read from cgroup.procs, without ever hitting a pid that
 * was reused meanwhile: through a pidfd, once /proc says that process
 * is (still) in the cgroup.
 */
static void
cgroup_signal_pid(pid_t pid, int sig, const char *cgpath)
{
	int	pfd;

	if ((pfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return;			/* gone already */
	if (cgroup_pid_inside(pid, cgpath))
		(void)syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0);
		/* ESRCH: it died meanwhile, which is what we wanted */
	close(pfd);
}

/* Signal every pid of dirfd's cgroup.procs; wk->found counts them. */
static int
cgroup_procs_signal(int dirfd, const char *cgpath, struct cgroup_walk *wk)
{
	char	 buf[4096];
	long	 pid = 0;
	bool	 digits = false;
	ssize_t	 n, i;
	int	 fd;

	if ((fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return (-1);
	while ((n = read(fd, buf, sizeof buf)) > 0 ||
	    (n == -1 && errno == EINTR)) {
		for (i = 0; i < n; i++) {	/* a pid may span reads */
			if (buf[i] >= '0' && buf[i] <= '9') {
				pid = pid * 10 + (buf[i] - '0');
				digits = pid < INT_MAX;
				continue;
			}
			if (digits && pid > 0) {
				cgroup_signal_pid((pid_t)pid, wk->sig, cgpath);
				wk->found++;
			}
			pid = 0;
			digits = false;
		}
	}
	if (digits && pid > 0) {
		cgroup_signal_pid((pid_t)pid, wk->sig, cgpath);
		wk->found++;
	}
	close(fd);
	return (n == -1 ? -1 : 0);
}

/*
 * Signal the processes of dirfd's cgroup (cgpath), then of its
 * sub-cgroups, visiting at most wk->budget directories in all.
 */
static int
cgroup_procs_walk(int dfd, const char *cgpath, int depth,
    struct cgroup_walk *wk)
{
	struct dirent	*de;
	DIR		*d;
	char		*sub;
	int		 fd;

	if (cgroup_procs_signal(dfd, cgpath, wk) == -1)
		return (-1);
	if (depth >= CGROUP_DEPTH_MAX || (d = cgroup_opendir(dfd, ".")) ==
	    NULL)
		return (0);
	while ((de = readdir(d)) != NULL && wk->budget > 0) {
		if (!cgroup_is_dir(d, de) || (fd = openat(dirfd(d), de->d_name,
		    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
			continue;
		wk->budget--;
		xasprintf(&sub, "%s/%s", cgpath, de->d_name);
		/* A sub-cgroup that vanished meanwhile: nothing to do. */
		(void)cgroup_procs_walk(fd, sub, depth + 1, wk);
		free(sub);
		close(fd);
	}
	closedir(d);
	return (0);
}

int
cgroup_child_signal(struct cgroup_child *cc, int sig)
{
	struct cgroup_walk	wk = { .sig = sig, .budget = CGROUP_BUDGET };

	return (cgroup_procs_walk(cc->fd, cc->cgpath, 0, &wk));
}

int
cgroup_child_kill(struct cgroup_child *cc)
{
	struct cgroup_walk	wk;
	int			pass;

	if (cgroup_write_at(cc->fd, "cgroup.kill", "1") == 0)
		return (0);
	if (errno != ENOENT)
		return (-1);
	/*
	 * Before Linux 5.14: SIGKILL whatever is listed, again while a
	 * pass still finds processes (forks racing the kill).
	 */
	for (pass = 0; pass < CGROUP_KILL_PASSES; pass++) {
		wk = (struct cgroup_walk){ .sig = SIGKILL,
		    .budget = CGROUP_BUDGET };
		if (cgroup_procs_walk(cc->fd, cc->cgpath, 0, &wk) == -1)
			return (-1);
		if (wk.found == 0)
			break;
	}
	return (0);
}

int
cgroup_child_populated(struct cgroup_child *cc)
{
	char		buf[CGROUP_FILE_MAX];
	uint64_t	v;

	if (cgroup_read_at(cc->fd, "cgroup.events", buf, sizeof buf) == -1 ||
	    cgroup_parse_keyed(buf, "populated", &v) == -1)
		return (-1);
	return (v != 0);
}

int
cgroup_stats_read(int dirfd, struct cgroup_stats *st)
{
	char		buf[CGROUP_FILE_MAX];
	uint64_t	v;

	st->memory_bytes = st->cpu_ms = -1;
	/* One number and a newline. */
	if (cgroup_read_at(dirfd, "memory.current", buf, sizeof buf) > 0 &&
	    cgroup_parse_u64(buf, strchrnul(buf, '\n'), &v) == 0 &&
	    v <= INT64_MAX)
		st->memory_bytes = (int64_t)v;
	if (cgroup_read_at(dirfd, "cpu.stat", buf, sizeof buf) > 0 &&
	    cgroup_parse_keyed(buf, "usage_usec", &v) == 0)
		st->cpu_ms = (int64_t)(v / 1000);
	return (0);
}

int
cgroup_child_stats(struct cgroup_child *cc, struct cgroup_stats *st)
{
	return (cgroup_stats_read(cc->fd, st));
}

int
cgroup_oom_read(int dirfd, uint64_t *n)
{
	char	buf[CGROUP_FILE_MAX];

	if (cgroup_read_at(dirfd, "memory.events", buf, sizeof buf) == -1)
		return (-1);
	return (cgroup_parse_keyed(buf, "oom_kill", n));
}

int
cgroup_child_oom_kills(struct cgroup_child *cc, uint64_t *n)
{
	return (cgroup_oom_read(cc->fd, n));
}

int
cgroup_child_remove(struct cgroup_child *cc)
{
	int	budget = CGROUP_BUDGET;

	return (cgroup_rmtree(cc->cg, cc->cg->basefd, cc->dir, 0, &budget));
}

/*
 * Waiting for populated 0: inotify on cgroup.events (the kernel sends
 * IN_MODIFY when a value changes), or a poll timer where no watch can
 * be had.  The watch is added before the first read, so no change is
 * missed between the two.
 */

/* The loop's inotify descriptor, made on first use; -1 if none. */
static int
cgroup_ino(struct cgroup *cg)
{
	if (cg->ino != -1 || cg->ino_failed)
		return (cg->ino);
	if ((cg->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		cg->ino_failed = true;	/* EMFILE: poll instead */
		return (-1);
	}
	ev_io_set(&cg->inow, cg->ino, EV_READ);
	ev_io_start(cg->loop, &cg->inow);
	return (cg->ino);
}

static void
cgroup_watch(struct cgroup_child *cc)
{
	struct cgroup	*cg = cc->cg;
	char		 p[64];
	int		 ino;

	if ((ino = cgroup_ino(cg)) != -1) {
		/* The directory's descriptor: no path is walked again. */
		snprintf(p, sizeof p, "/proc/self/fd/%d/cgroup.events", cc->fd);
		cc->wd = inotify_add_watch(ino, p, IN_MODIFY | IN_DONT_FOLLOW);
	}
	if (cc->wd == -1 && cg->npolled++ == 0) {
		ev_timer_set(&cg->pollw, CGROUP_POLL_S, CGROUP_POLL_S);
		ev_timer_start(cg->loop, &cg->pollw);
	}
}

int
cgroup_child_wait(struct cgroup_child *cc, cgroup_empty_cb *cb, void *arg)
{
	struct cgroup	*cg = cc->cg;
	int		 p;

	if (cg->loop == NULL) {
		errno = EINVAL;
		return (-1);
	}
	cc->cb = cb;
	cc->arg = arg;
	if (!cc->waiting) {
		cc->waiting = true;
		cc->prev = NULL;
		if ((cc->next = cg->waiting) != NULL)
			cc->next->prev = cc;
		cg->waiting = cc;
		cgroup_watch(cc);
	}
	if ((p = cgroup_child_populated(cc)) != 1)
		cgroup_child_unwait(cc);
	return (p == 1 ? 0 : p == 0 ? 1 : -1);
}

void
cgroup_child_unwait(struct cgroup_child *cc)
{
	struct cgroup		*cg = cc->cg;
	struct cgroup_child	*o;
	bool			 shared = false;

	if (!cc->waiting)
		return;
	cc->waiting = false;
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		cg->waiting = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	cc->prev = cc->next = NULL;
	if (cc->wd == -1) {
		if (--cg->npolled == 0)
			ev_timer_stop(cg->loop, &cg->pollw);
		return;
	}
	/* Two handles of one cgroup get one wd: keep it for the other. */
	for (o = cg->waiting; o != NULL; o = o->next)
		shared = shared || o->wd == cc->wd;
	if (!shared)
		(void)inotify_rm_watch(cg->ino, cc->wd);	/* may be gone */
	cc->wd = -1;
}

/*
 * Call back the waiters that are empty now: those with an event (all of
 * them after an overflow) and the polled ones.  A callback may free its
 * own handle, so the walk starts over after each call; the generation
 * keeps each waiter to one read per scan.
 */
static void
cgroup_scan(struct cgroup *cg, bool all)
{
	struct cgroup_child	*cc;
	cgroup_empty_cb		*cb;
	void			*arg;
	unsigned		 gen = ++cg->scan;

again:
	for (cc = cg->waiting; cc != NULL; cc = cc->next) {
		if (cc->scan == gen)
			continue;
		cc->scan = gen;
		if (!all && !cc->dirty && cc->wd != -1)
			continue;
		cc->dirty = false;
		/* -1: gone (removed under us), which is empty too. */
		if (cgroup_child_populated(cc) == 1)
			continue;
		cb = cc->cb;
		arg = cc->arg;
		cgroup_child_unwait(cc);
		cb(cc, arg);
		goto again;
	}
}

/* Mark the waiters of one event's watch. */
static void
cgroup_event(struct cgroup *cg, const struct inotify_event *ev)
{
	struct cgroup_child	*cc;

	for (cc = cg->waiting; cc != NULL; cc = cc->next) {
		if (cc->wd != ev->wd)
			continue;
		cc->dirty = true;
		if (ev->mask & IN_IGNORED) {	/* the watch went away */
			cc->wd = -1;
			if (cg->npolled++ == 0) {
				ev_timer_set(&cg->pollw, CGROUP_POLL_S,
				    CGROUP_POLL_S);
				ev_timer_start(cg->loop, &cg->pollw);
			}
		}
	}
}

static void
cgroup_ino_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct cgroup			*cg = w->data;
	const struct inotify_event	*ev;
	char				 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	bool				 all = false;
	ssize_t				 n, off;
	int				 i;

	for (i = 0; i < CGROUP_EVENTS_READS; i++) {
		if ((n = read(cg->ino, buf, sizeof buf)) <= 0)
			break;		/* EAGAIN: drained */
		for (off = 0; off + (ssize_t)sizeof *ev <= n;
		    off += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(void *)(buf + off);
			if (ev->mask & IN_Q_OVERFLOW)
				all = true;
			else
				cgroup_event(cg, ev);
		}
	}
	cgroup_scan(cg, all);
}

static void
cgroup_poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	cgroup_scan(w->data, false);
}

/*
 * Starting a child inside its cgroup.
 */

/*
 * clone3 with CLONE_VM: the child starts on a's stack and calls fn(arg)
 * at once, in assembly, since no C code of the caller's may run there
 * (its frame is on the caller's stack).  fn never returns.  The result
 * or -errno.
 */
static long
cgroup_clone_vm(struct cgroup_clone_args *a, void (*fn)(void *), void *arg)
{
#if defined(__x86_64__)
	register void	*r8 __asm__("r8") = arg;
	long		 ret;

	/* The child has every register of the caller's but rax and rsp. */
	__asm__ volatile (
	    "syscall\n\t"
	    "testq %%rax, %%rax\n\t"
	    "jnz 1f\n\t"
	    "xorl %%ebp, %%ebp\n\t"
	    "movq %%r8, %%rdi\n\t"
	    "callq *%%rdx\n\t"
	    "ud2\n"
	    "1:"
	    : "=a" (ret)
	    : "0" ((long)SYS_clone3), "D" (a), "S" (sizeof *a), "d" (fn),
	      "r" (r8)
	    : "rcx", "r11", "memory");
	return (ret);
#else
	(void)a;
	(void)fn;
	(void)arg;
	return (-ENOSYS);
#endif
}

pid_t
cgroup_clone(const struct cgroup_clone *c)
{
	struct cgroup_clone_args	a;
	long				ret;

	memset(&a, 0, sizeof a);
	/* CLONE_PARENT takes the caller's own exit signal; 0 is required. */
	a.exit_signal = c->parent ? 0 : SIGCHLD;
	if (c->cgroup_fd >= 0) {
		a.flags |= CGROUP_CLONE_INTO;
		a.cgroup = (uint64_t)c->cgroup_fd;
	}
	if (c->parent)
		a.flags |= CGROUP_CLONE_PARENT;
	if (c->files)
		a.flags |= CGROUP_CLONE_FILES;
	if (c->pidfd != NULL) {
		a.flags |= CGROUP_CLONE_PIDFD;
		a.pidfd = (uint64_t)(uintptr_t)c->pidfd;
	}
	if (c->stack == NULL)
		return ((pid_t)syscall(SYS_clone3, &a, sizeof a));
	a.flags |= CGROUP_CLONE_VM | CGROUP_CLONE_CLEARTID;
	a.stack = (uint64_t)(uintptr_t)c->stack;
	a.stack_size = c->stack_size;
	a.child_tid = (uint64_t)(uintptr_t)c->left;
	if ((ret = cgroup_clone_vm(&a, c->fn, c->arg)) < 0) {
		errno = (int)-ret;
		return (-1);
	}
	return ((pid_t)ret);
}

bool
cgroup_clone_unsupported(int err)
{
	/* No clone3 (or a seccomp filter's ENOSYS); no CLONE_INTO_CGROUP. */
	return (err == ENOSYS || err == E2BIG);
}

int
cgroup_join(int cgroup_fd)
{
	ssize_t	n;
	int	fd, saved;

	if ((fd = openat(cgroup_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return (-1);
	do
		n = write(fd, "0", 1);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n != 1) {
		errno = n == -1 ? saved : EIO;
		return (-1);
	}
	return (0);
}

bool
cgroup_holds(const struct cgroup *cg, pid_t pid)
{
	return (cgroup_pid_inside(pid, cg->cgpath));
}
