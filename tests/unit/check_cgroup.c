/* SPDX-License-Identifier: MIT */
/*
 * check_cgroup: cgroup v2 containment.  Three parts:
 *
 * - the parsers, as tables (mountinfo, /proc/PID/cgroup, paths, names,
 *   keyed files, controller lists);
 * - the logic against a fake cgroupfs: a temp directory whose "kernel"
 *   is the made callback filling each new directory with interface
 *   files; set-up, controllers and their reasons, limits, stats, OOM
 *   counts, kill, leftovers, removal, and the watcher on the loop
 *   (inotify sees a rewritten cgroup.events as it sees the kernel's);
 * - the real thing on this host's cgroup2 hierarchy, when gtd's own
 *   cgroup may be written (root on a cgroup2 host): clone3 into a
 *   cgroup, the join fallback, cgroup.kill of a grandchild that left its
 *   session, populated 0 through the watcher, leftovers of a "crashed"
 *   gtd, sub-cgroups, stats; limits only where the controller is
 *   delegated.  Elsewhere those tests say why on stderr and pass.
 *
 * Real tests use the instance "cgtest-<pid>" and sweep the bases of
 * earlier test processes that died before cleaning up.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <ev.h>

#include "gt/cgroup.h"
#include "gt/xmalloc.h"

#include "check_unit.h"

/*
 * Parsers.
 */

static const char mountinfo_hybrid[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:9 master:2 "
    "- cgroup2 cgroup2 rw\n"
    "41 22 0:37 /a/b /mnt/with\\040space rw - cgroup2 none rw,nsdelegate\n"
    "42 22 0:38 / /x rw - cgroup2x none rw\n"
    "garbage line without fields\n"
    "43 22 0:39 / /y rw no-separator cgroup2 none rw\n"
    "44 22 0:40 / /z rw - cgroup2";	/* no source: still a cgroup2 */

START_TEST(test_cgroup_parse_mountinfo)
{
	struct cgroup_mnt	*v;
	size_t			 n;

	ck_assert_int_eq(cgroup_parse_mountinfo(mountinfo_hybrid, &v, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(v[0].mount, "/sys/fs/cgroup/unified");
	ck_assert_str_eq(v[0].root, "/");
	ck_assert_str_eq(v[1].mount, "/mnt/with space");
	ck_assert_str_eq(v[1].root, "/a/b");
	ck_assert_str_eq(v[2].mount, "/z");
	cgroup_mnt_free(v, n);
	ck_assert_int_eq(cgroup_parse_mountinfo("", &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	cgroup_mnt_free(v, n);
	ck_assert_int_eq(cgroup_parse_mountinfo("30 22 0:27 / /sys/fs/cgroup "
	    "rw - tmpfs tmpfs rw\n", &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	cgroup_mnt_free(v, n);
}
END_TEST

START_TEST(test_cgroup_parse_self)
{
	char	*own = NULL;

	ck_assert_int_eq(cgroup_parse_self("12:pids:/x\n1:name=systemd:/\n"
	    "0::/system.slice/gtd@a.service\n", &own), 0);
	ck_assert_str_eq(own, "/system.slice/gtd@a.service");
	free(own);
	ck_assert_int_eq(cgroup_parse_self("0::/", &own), 0);
	ck_assert_str_eq(own, "/");
	free(own);
	/* A v1-only host: no "0::" line. */
	ck_assert_int_eq(cgroup_parse_self("4:memory:/a\n10::/b\n", &own), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(cgroup_parse_self("", &own), -1);
	ck_assert_int_eq(cgroup_parse_self("0::relative\n", &own), -1);
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static const struct {
	const char	*path, *prefix, *rest;	/* rest NULL: not under */
} under_rows[] = {
	{ "/a/b", "/a", "/b" },
	{ "/a", "/a", "" },
	{ "/a/", "/a", "" },
	{ "/a/b", "/a/", "/b" },
	{ "/ab", "/a", NULL },
	{ "/a", "/a/b", NULL },
	{ "/x/y", "/", "/x/y" },
	{ "/", "/", "" },
	{ "relative", "/", NULL },
	{ "/sys/fs/cgroup/unified/gtd", "/sys/fs/cgroup/unified", "/gtd" },
	{ "/sys/fs/cgroup", "/sys/fs/cgroup/unified", NULL },
};

START_TEST(test_cgroup_path_under_table)
{
	const char	*r;

	r = cgroup_path_under(under_rows[_i].path, under_rows[_i].prefix);
	if (under_rows[_i].rest == NULL)
		ck_assert_msg(r == NULL, "row %d: %s", _i, r);
	else {
		ck_assert_msg(r != NULL, "row %d: not under", _i);
		ck_assert_str_eq(r, under_rows[_i].rest);
	}
}
END_TEST

START_TEST(test_cgroup_dirname)
{
	char	name[400], want[260], *s;

	s = cgroup_dirname("web", 3);
	ck_assert_str_eq(s, "web@3");
	free(s);
	s = cgroup_dirname("a/b c.d@e", 1);
	ck_assert_str_eq(s, "a%2Fb%20c%2Ed%40e@1");
	free(s);
	s = cgroup_dirname("caf\xc3\xa9_-9", 12);
	ck_assert_str_eq(s, "caf%C3%A9_-9@12");
	free(s);
	s = cgroup_dirname("memory.max", 1);	/* never a kernel file */
	ck_assert_str_eq(s, "memory%2Emax@1");
	free(s);
	/* Cut to CGROUP_NAME_MAX bytes... */
	memset(name, 'x', 300);
	name[300] = '\0';
	s = cgroup_dirname(name, 1);
	ck_assert_uint_eq(strlen(s), CGROUP_NAME_MAX + 2);
	free(s);
	/* ...never inside an escape. */
	memset(name, 'x', CGROUP_NAME_MAX - 1);
	strcpy(name + CGROUP_NAME_MAX - 1, "/tail");
	s = cgroup_dirname(name, 1);
	memset(want, 'x', CGROUP_NAME_MAX - 1);
	strcpy(want + CGROUP_NAME_MAX - 1, "@1");
	ck_assert_str_eq(s, want);
	free(s);
}
END_TEST

START_TEST(test_cgroup_parse_keyed)
{
	const char	*ev = "populated 1\nfrozen 0\n";
	const char	*mem = "low 0\nhigh 3\nmax 12\noom 2\noom_kill 1\n"
	    "oom_group_kill 0\n";
	uint64_t	 v = 99;

	ck_assert_int_eq(cgroup_parse_keyed(ev, "populated", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(cgroup_parse_keyed(ev, "frozen", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cgroup_parse_keyed(mem, "oom_kill", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert_int_eq(cgroup_parse_keyed(mem, "oom", &v), 0);
	ck_assert_uint_eq(v, 2);
	/* A prefix of a key is not the key. */
	ck_assert_int_eq(cgroup_parse_keyed(ev, "pop", &v), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(cgroup_parse_keyed("", "populated", &v), -1);
	ck_assert_int_eq(cgroup_parse_keyed("usage_usec 12a\n", "usage_usec",
	    &v), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(cgroup_parse_keyed("usage_usec \n", "usage_usec",
	    &v), -1);
	ck_assert_int_eq(cgroup_parse_keyed("usage_usec -1\n", "usage_usec",
	    &v), -1);
	ck_assert_int_eq(cgroup_parse_keyed("n 18446744073709551615", "n",
	    &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(cgroup_parse_keyed("n 18446744073709551616", "n",
	    &v), -1);
	ck_assert_int_eq(errno, ERANGE);
}
END_TEST

START_TEST(test_cgroup_parse_controllers)
{
	ck_assert_uint_eq(cgroup_parse_controllers("cpuset cpu io memory "
	    "hugetlb pids rdma misc\n"), CGROUP_ALL);
	ck_assert_uint_eq(cgroup_parse_controllers("memory"), CGROUP_MEMORY);
	ck_assert_uint_eq(cgroup_parse_controllers("cpuset io hugetlb\n"), 0);
	ck_assert_uint_eq(cgroup_parse_controllers("cpuacct memoryx pid"), 0);
	ck_assert_uint_eq(cgroup_parse_controllers(""), 0);
	ck_assert_uint_eq(cgroup_parse_controllers("pids\tcpu"),
	    CGROUP_PIDS | CGROUP_CPU);
}
END_TEST

/*
 * A fake cgroupfs.
 */

static struct {
	char		 dir[64];	/* the fake mount point */
	const char	*ctrl;		/* cgroup.controllers of new dirs */
	bool		 no_kill;	/* new dirs lack cgroup.kill */
	bool		 no_memory;	/* new dirs lack memory.* */
	int		 nempty;	/* watcher callbacks */
	struct cgroup_child *seen[8];
	bool		 free_in_cb;
} fk;

static void
fake_put(int dirfd, const char *file, const char *text)
{
	int	fd;

	fd = openat(dirfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644);
	ck_assert_msg(fd != -1, "%s: %s", file, strerror(errno));
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The content of DIR/rel (xmalloc'd), or NULL. */
static char *
fake_get(const char *rel)
{
	char	 path[512], *buf = xcalloc(1, 4096);
	ssize_t	 n;
	int	 fd;

	snprintf(path, sizeof path, "%s/%s", fk.dir, rel);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		free(buf);
		return (NULL);
	}
	n = read(fd, buf, 4095);
	close(fd);
	ck_assert(n >= 0);
	return (buf);
}

static bool
fake_exists(const char *rel)
{
	char		path[512];
	struct stat	st;

	snprintf(path, sizeof path, "%s/%s", fk.dir, rel);
	return (lstat(path, &st) == 0);
}

/* What the kernel puts into a new cgroup directory. */
static void
fake_fill(int d, const char *ctrl, bool root)
{
	fake_put(d, "cgroup.procs", "");
	fake_put(d, "cgroup.controllers", ctrl);
	fake_put(d, "cgroup.subtree_control", "");
	fake_put(d, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
	if (root)
		return;
	fake_put(d, "cgroup.type", "domain\n");
	fake_put(d, "cgroup.events", "populated 0\nfrozen 0\n");
	if (!fk.no_kill)
		fake_put(d, "cgroup.kill", "");
	if (strstr(ctrl, "cpu") != NULL) {
		fake_put(d, "cpu.max", "max 100000\n");
		fake_put(d, "cpu.weight", "100\n");
	}
	if (strstr(ctrl, "pids") != NULL)
		fake_put(d, "pids.max", "max\n");
	if (strstr(ctrl, "memory") != NULL && !fk.no_memory) {
		fake_put(d, "memory.max", "max\n");
		fake_put(d, "memory.high", "max\n");
		fake_put(d, "memory.current", "0\n");
		fake_put(d, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\n"
		    "oom_kill 0\n");
	}
}

static void
fake_made(int dirfd, const char *name, void *arg)
{
	int	d;

	ck_assert_ptr_eq(arg, &fk);
	d = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ne(d, -1);
	fake_fill(d, fk.ctrl, false);
	close(d);
}

/* A fake hierarchy whose root cgroup offers ctrl. */
static void
fake_setup(const char *ctrl)
{
	int	d;

	memset(&fk, 0, sizeof fk);
	strcpy(fk.dir, "/tmp/gtd-cgfake-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fk.dir));
	fk.ctrl = ctrl;
	d = open(fk.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fake_fill(d, ctrl, true);
	close(d);
}

/* A non-root cgroup rel in the fake tree, as the kernel shows it. */
static void
fake_cgroup(const char *rel, const char *ctrl)
{
	char	path[512];
	int	d;

	snprintf(path, sizeof path, "%s/%s", fk.dir, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	d = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fake_fill(d, ctrl, false);
	close(d);
}

static int
fake_rm_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	/* Best effort: a leftover in /tmp is no test failure. */
	(void)remove(path);
	return (0);
}

static void
fake_teardown(void)
{
	if (fk.dir[0] != '\0')
		(void)nftw(fk.dir, fake_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct cgroup *
fake_open(const char *own, const char *path, char **cause)
{
	struct cgroup_opts	o = {
		.loop = EV_DEFAULT, .mount = fk.dir, .own = own,
		.path = path, .instance = "t", .fake = true,
		.made = fake_made, .arg = &fk
	};

	*cause = NULL;
	return (cgroup_open(&o, cause));
}

static struct cgroup *
fake_open_ok(const char *own)
{
	struct cgroup	*cg;
	char		*cause;

	cg = fake_open(own, NULL, &cause);
	ck_assert_msg(cg != NULL, "cgroup_open: %s", cause);
	return (cg);
}

/* A hybrid host: the cgroup2 root offers none of gtd's controllers. */
START_TEST(test_cgroup_fake_hybrid_root)
{
	struct cgroup	*cg;
	char		 want[128];

	fake_setup("hugetlb\n");
	cg = fake_open_ok("/");
	snprintf(want, sizeof want, "%s/gtd-t", fk.dir);
	ck_assert_str_eq(cgroup_path(cg), want);
	ck_assert_str_eq(cgroup_cgpath(cg), "/gtd-t");
	ck_assert_uint_eq(cgroup_controllers(cg), 0);
	ck_assert(!cgroup_moved(cg));
	snprintf(want, sizeof want, "the memory controller is not on the "
	    "cgroup2 hierarchy at %s", fk.dir);
	ck_assert_msg(strstr(cgroup_why(CGROUP_MEMORY, cg), want) != NULL,
	    "%s", cgroup_why(CGROUP_MEMORY, cg));
	ck_assert_ptr_nonnull(strstr(cgroup_why(CGROUP_PIDS, cg), "pids"));
	ck_assert(fake_exists("gtd-t/cgroup.events"));
	/* The root may hold processes: gtd stays where it is. */
	ck_assert(!fake_exists("supervisor"));
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/* Root with every controller: enabled down to the base, gtd stays. */
START_TEST(test_cgroup_fake_root_controllers)
{
	struct cgroup	*cg;

	fake_setup("cpuset cpu io memory pids\n");
	cg = fake_open_ok("/");
	ck_assert_uint_eq(cgroup_controllers(cg), CGROUP_ALL);
	ck_assert_ptr_null(cgroup_why(CGROUP_MEMORY, cg));
	ck_assert(!cgroup_moved(cg));
	ck_assert(!fake_exists("supervisor"));
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/*
 * A systemd unit with Delegate=yes: gtd's cgroup is not the root, so gtd
 * moves into a leaf before it enables controllers there.
 */
START_TEST(test_cgroup_fake_delegated_moves_gtd)
{
	struct cgroup	*cg;
	char		*s, want[128];

	fake_setup("cpu io memory pids\n");
	fake_cgroup("svc", "cpu io memory pids\n");
	cg = fake_open_ok("/svc");
	ck_assert(cgroup_moved(cg));
	s = fake_get("svc/supervisor/cgroup.procs");
	ck_assert_str_eq(s, "0");		/* "0": the writer, gtd */
	free(s);
	ck_assert_str_eq(cgroup_cgpath(cg), "/svc/gtd-t");
	snprintf(want, sizeof want, "%s/svc/gtd-t", fk.dir);
	ck_assert_str_eq(cgroup_path(cg), want);
	ck_assert_uint_eq(cgroup_controllers(cg), CGROUP_ALL);
	/* The base enabled them for the children (one write each). */
	s = fake_get("svc/gtd-t/cgroup.subtree_control");
	ck_assert_str_eq(s, "+pids");		/* the last of the writes */
	free(s);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/* Only some controllers delegated: the others say so, by name. */
START_TEST(test_cgroup_fake_partly_delegated)
{
	struct cglimits	 l;
	struct cgroup	*cg;
	char		*field = NULL, *cause = NULL;

	fake_setup("cpu memory pids\n");
	fake_cgroup("svc", "pids\n");
	fk.ctrl = "pids\n";		/* what the base's children see */
	cg = fake_open_ok("/svc");
	ck_assert_uint_eq(cgroup_controllers(cg), CGROUP_PIDS);
	ck_assert_str_eq(cgroup_why(CGROUP_MEMORY, cg), "the memory "
	    "controller is not delegated to gtd's cgroup /svc");
	ck_assert_ptr_null(cgroup_why(CGROUP_PIDS, cg));
	cglimits_init(&l);
	l.pids_max = 5;
	ck_assert_int_eq(cglimits_check(&l, cgroup_controllers(cg),
	    cgroup_why, cg, &field, &cause), 0);
	l.memory_max = 1 << 20;
	ck_assert_int_eq(cglimits_check(&l, cgroup_controllers(cg),
	    cgroup_why, cg, &field, &cause), -1);
	ck_assert_str_eq(field, "limits.memory_max");
	ck_assert_str_eq(cause, "limits.memory_max: the memory controller is "
	    "not delegated to gtd's cgroup /svc");
	free(field);
	free(cause);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/* "cgroup": PATH.  gtd lives in it: it moves into its leaf. */
START_TEST(test_cgroup_fake_configured_path)
{
	struct cgroup	*cg;
	char		 path[128], *cause;

	fake_setup("cpu memory pids\n");
	fake_cgroup("box", "memory\n");
	fk.ctrl = "memory\n";
	snprintf(path, sizeof path, "%s/box", fk.dir);
	cg = fake_open("/box", path, &cause);
	ck_assert_msg(cg != NULL, "%s", cause);
	ck_assert_str_eq(cgroup_path(cg), path);
	ck_assert_str_eq(cgroup_cgpath(cg), "/box");
	ck_assert(cgroup_moved(cg));
	ck_assert(fake_exists("box/supervisor/cgroup.procs"));
	ck_assert_uint_eq(cgroup_controllers(cg), CGROUP_MEMORY);
	ck_assert_ptr_nonnull(strstr(cgroup_why(CGROUP_CPU, cg), "/box"));
	/* A configured base is the administrator's: never removed. */
	ck_assert_int_eq(cgroup_remove_base(cg), 0);
	ck_assert(fake_exists("box"));
	cgroup_free(cg);
	/* gtd elsewhere: it stays there. */
	fake_cgroup("box2", "memory\n");
	snprintf(path, sizeof path, "%s/box2", fk.dir);
	cg = fake_open("/", path, &cause);
	ck_assert_msg(cg != NULL, "%s", cause);
	ck_assert(!cgroup_moved(cg));
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/* A configured path outside the hierarchy, or missing: off, with why. */
START_TEST(test_cgroup_fake_configured_path_bad)
{
	struct cgroup	*cg;
	char		 path[128], *cause;

	fake_setup("memory\n");
	cg = fake_open("/", "/tmp", &cause);
	ck_assert_ptr_null(cg);
	ck_assert_str_eq(cause, "cgroup /tmp is not on a cgroup2 file system");
	free(cause);
	snprintf(path, sizeof path, "%s/nonexistent", fk.dir);
	cg = fake_open("/", path, &cause);
	ck_assert_ptr_null(cg);
	ck_assert_ptr_nonnull(strstr(cause, "No such file or directory"));
	free(cause);
	fake_teardown();
}
END_TEST

/* Not the real cgroup2 file system: refused without the fake flag. */
START_TEST(test_cgroup_real_fs_check)
{
	struct cgroup_opts	 o = { .mount = "/tmp", .own = "/" };
	struct cgroup		*cg;
	char			*cause = NULL;

	cg = cgroup_open(&o, &cause);
	ck_assert_ptr_null(cg);
	ck_assert_str_eq(cause, "/tmp: not a cgroup2 file system");
	free(cause);
	o.path = "/tmp";
	o.mount = "/";
	cg = cgroup_open(&o, &cause);
	ck_assert_ptr_null(cg);
	ck_assert_str_eq(cause, "/: not a cgroup2 file system");
	free(cause);
}
END_TEST

/* gtd may not write its cgroup (not root, no delegation): off, why. */
START_TEST(test_cgroup_fake_not_writable)
{
	struct cgroup	*cg;
	char		*cause;

	if (geteuid() != 0) {
		fprintf(stderr, "check_cgroup: not_writable needs root\n");
		return;
	}
	fake_setup("memory\n");
	ck_assert_int_eq(chmod(fk.dir, 0755), 0);
	ck_assert_int_eq(seteuid(65534), 0);	/* back for the teardown */
	cg = fake_open("/", NULL, &cause);
	ck_assert_int_eq(seteuid(0), 0);
	ck_assert_ptr_null(cg);
	ck_assert_msg(strstr(cause, "gtd may not write its cgroup /: "
	    "Permission denied") != NULL, "%s", cause);
	ck_assert_ptr_nonnull(strstr(cause, "Delegate=yes"));
	free(cause);
	ck_assert(!fake_exists("gtd-t"));
	fake_teardown();
}
END_TEST

START_TEST(test_cgroup_fake_own_outside_mount)
{
	struct cgroup_opts	 o = {
		.mount = "/nonexistent", .mroot = "/a", .own = "/b",
		.fake = true
	};
	struct cgroup		*cg;
	char			*cause = NULL;

	cg = cgroup_open(&o, &cause);
	ck_assert_ptr_null(cg);
	ck_assert_ptr_nonnull(strstr(cause, "No such file"));
	free(cause);
	fake_setup("memory\n");
	o.mount = fk.dir;
	cg = cgroup_open(&o, &cause);
	ck_assert_ptr_null(cg);
	ck_assert_ptr_nonnull(strstr(cause, "gtd's cgroup /b is outside the "
	    "cgroup2 mount"));
	free(cause);
	o.own = NULL;
	cg = cgroup_open(&o, &cause);
	ck_assert_ptr_null(cg);
	free(cause);
	fake_teardown();
}
END_TEST

START_TEST(test_cgroup_fake_child_limits)
{
	struct cgroup_child	*cc;
	struct cglimits		 l;
	struct cgroup		*cg;
	char			*cause = NULL, *s, want[256];

	fake_setup("cpu memory pids\n");
	cg = fake_open_ok("/");
	cglimits_init(&l);
	l.memory_max = 1048576;
	l.memory_high = CGLIMIT_MAX;
	l.pids_max = 64;
	l.cpu_max = 50;
	l.cpu_weight = 200;
	cc = cgroup_child_new(cg, "web/1", &l, &cause);
	ck_assert_msg(cc != NULL, "%s", cause);
	ck_assert_str_eq(cgroup_child_dir(cc), "web%2F1@1");
	ck_assert_str_eq(cgroup_child_cgpath(cc), "/gtd-t/web%2F1@1");
	snprintf(want, sizeof want, "%s/gtd-t/web%%2F1@1", fk.dir);
	ck_assert_str_eq(cgroup_child_path(cc), want);
	ck_assert_int_ge(cgroup_child_fd(cc), 0);
	s = fake_get("gtd-t/web%2F1@1/memory.max");
	ck_assert_str_eq(s, "1048576");
	free(s);
	s = fake_get("gtd-t/web%2F1@1/memory.high");
	ck_assert_str_eq(s, "max");
	free(s);
	s = fake_get("gtd-t/web%2F1@1/pids.max");
	ck_assert_str_eq(s, "64");
	free(s);
	s = fake_get("gtd-t/web%2F1@1/cpu.max");
	ck_assert_str_eq(s, "50000 100000");
	free(s);
	s = fake_get("gtd-t/web%2F1@1/cpu.weight");
	ck_assert_str_eq(s, "200");
	free(s);
	/* No limits: the kernel's defaults stay. */
	cgroup_child_free(cc);
	cc = cgroup_child_new(cg, "db", NULL, &cause);
	ck_assert_ptr_nonnull(cc);
	s = fake_get("gtd-t/db@2/memory.max");
	ck_assert_str_eq(s, "max\n");
	free(s);
	cgroup_child_free(cc);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/* Each incarnation gets a fresh directory; an existing one is skipped. */
START_TEST(test_cgroup_fake_child_ids)
{
	struct cgroup_child	*a, *b;
	struct cgroup		*cg;
	char			 path[128], *cause;

	fake_setup("pids\n");
	cg = fake_open_ok("/");
	snprintf(path, sizeof path, "%s/gtd-t/x@1", fk.dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);	/* a crashed gtd's */
	a = cgroup_child_new(cg, "x", NULL, &cause);
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(cgroup_child_dir(a), "x@2");
	b = cgroup_child_new(cg, "x", NULL, &cause);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(cgroup_child_dir(b), "x@3");
	cgroup_child_free(a);
	cgroup_child_free(b);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/*
 * A controller listed but its file missing (the kernel refuses it, say):
 * the child's start fails with the reason, and nothing is left behind.
 */
START_TEST(test_cgroup_fake_limits_fail_cleanly)
{
	struct cglimits	 l;
	struct cgroup	*cg;
	char		*cause = NULL;

	fake_setup("memory\n");
	fk.no_memory = true;
	cg = fake_open_ok("/");
	cglimits_init(&l);
	l.memory_max = 4096;
	ck_assert_ptr_null(cgroup_child_new(cg, "web", &l, &cause));
	ck_assert_msg(strstr(cause, "/gtd-t/web@1/memory.max: the memory "
	    "controller is not enabled") != NULL, "%s", cause);
	free(cause);
	ck_assert(!fake_exists("gtd-t/web@1"));
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

START_TEST(test_cgroup_fake_stats_and_oom)
{
	struct cgroup_child	*cc;
	struct cgroup_stats	 st;
	struct cgroup		*cg;
	uint64_t		 n = 99;
	char			*cause;
	int			 fd;

	fake_setup("cpu memory\n");
	cg = fake_open_ok("/");
	cc = cgroup_child_new(cg, "web", NULL, &cause);
	ck_assert_ptr_nonnull(cc);
	fd = open(cgroup_child_path(cc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fake_put(fd, "memory.current", "123456789\n");
	fake_put(fd, "cpu.stat", "usage_usec 2500999\nuser_usec 2000000\n"
	    "system_usec 500999\n");
	ck_assert_int_eq(cgroup_child_stats(cc, &st), 0);
	ck_assert_int_eq(st.memory_bytes, 123456789);
	ck_assert_int_eq(st.cpu_ms, 2500);
	ck_assert_int_eq(cgroup_child_oom_kills(cc, &n), 0);
	ck_assert_uint_eq(n, 0);
	fake_put(fd, "memory.events", "low 0\nhigh 0\nmax 7\noom 2\n"
	    "oom_kill 2\noom_group_kill 0\n");
	ck_assert_int_eq(cgroup_child_oom_kills(cc, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* Missing files: -1 each, no error. */
	ck_assert_int_eq(unlinkat(fd, "memory.current", 0), 0);
	ck_assert_int_eq(unlinkat(fd, "memory.events", 0), 0);
	fake_put(fd, "cpu.stat", "garbage\n");
	ck_assert_int_eq(cgroup_child_stats(cc, &st), 0);
	ck_assert_int_eq(st.memory_bytes, -1);
	ck_assert_int_eq(st.cpu_ms, -1);
	ck_assert_int_eq(cgroup_child_oom_kills(cc, &n), -1);
	ck_assert_int_eq(errno, ENOENT);
	close(fd);
	cgroup_child_free(cc);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

START_TEST(test_cgroup_fake_kill_writes_cgroup_kill)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause, *s;

	fake_setup("pids\n");
	cg = fake_open_ok("/");
	cc = cgroup_child_new(cg, "web", NULL, &cause);
	ck_assert_int_eq(cgroup_child_kill(cc), 0);
	s = fake_get("gtd-t/web@1/cgroup.kill");
	ck_assert_str_eq(s, "1");
	free(s);
	cgroup_child_free(cc);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/*
 * Without cgroup.kill, the kill signals the listed pids, but only a
 * process that /proc says is in that cgroup: a pid listed (or reused)
 * outside it is never hit.
 */
START_TEST(test_cgroup_fake_kill_fallback_spares_outsiders)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause, buf[32];
	pid_t			 pid;
	int			 fd, st;

	fake_setup("pids\n");
	fk.no_kill = true;
	cg = fake_open_ok("/");
	cc = cgroup_child_new(cg, "web", NULL, &cause);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	fd = open(cgroup_child_path(cc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(buf, sizeof buf, "%ld\n", (long)pid);
	fake_put(fd, "cgroup.procs", buf);
	close(fd);
	ck_assert_int_eq(cgroup_child_kill(cc), 0);
	ck_assert_int_eq(waitpid(pid, &st, WNOHANG), 0);	/* alive */
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	cgroup_child_free(cc);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

static void
fake_empty_cb(struct cgroup_child *cc, void *arg)
{
	ck_assert_ptr_eq(arg, &fk);
	if (fk.nempty < 8)
		fk.seen[fk.nempty] = cc;
	fk.nempty++;
	if (fk.free_in_cb)
		cgroup_child_free(cc);
}

static void
fake_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop until n callbacks came, or 2 s passed. */
static void
fake_run_until(int n)
{
	ev_timer	deadline;
	long long	end = test_now_ms() + TEST_DEADLINE_MS;

	ev_timer_init(&deadline, fake_deadline_cb, TEST_DEADLINE_MS / 1000.,
	    0.);
	ev_timer_start(EV_DEFAULT, &deadline);
	while (fk.nempty < n && test_now_ms() < end)
		ev_run(EV_DEFAULT, EVRUN_ONCE);
	ev_timer_stop(EV_DEFAULT, &deadline);
}

static void
fake_events(struct cgroup_child *cc, const char *text)
{
	int	fd;

	fd = open(cgroup_child_path(cc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fake_put(fd, "cgroup.events", text);
	close(fd);
}

START_TEST(test_cgroup_fake_wait_sees_populated_0)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause;

	fake_setup("pids\n");
	cg = fake_open_ok("/");
	cc = cgroup_child_new(cg, "web", NULL, &cause);
	/* Already empty: said at once, no callback. */
	ck_assert_int_eq(cgroup_child_wait(cc, fake_empty_cb, &fk), 1);
	fake_events(cc, "populated 1\nfrozen 0\n");
	ck_assert_int_eq(cgroup_child_populated(cc), 1);
	ck_assert_int_eq(cgroup_child_wait(cc, fake_empty_cb, &fk), 0);
	/* Another change (frozen) is not the end. */
	fake_events(cc, "populated 1\nfrozen 1\n");
	ev_run(EV_DEFAULT, EVRUN_NOWAIT);
	ck_assert_int_eq(fk.nempty, 0);
	fake_events(cc, "populated 0\nfrozen 0\n");
	fake_run_until(1);
	ck_assert_int_eq(fk.nempty, 1);
	ck_assert_ptr_eq(fk.seen[0], cc);
	/* Once: a later change calls nobody. */
	fake_events(cc, "populated 0\nfrozen 1\n");
	ev_run(EV_DEFAULT, EVRUN_NOWAIT);
	ck_assert_int_eq(fk.nempty, 1);
	cgroup_child_free(cc);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/* Callbacks that free their handle, several at once; and unwait. */
START_TEST(test_cgroup_fake_wait_many_free_in_cb)
{
	struct cgroup_child	*cc[4];
	struct cgroup		*cg;
	char			*cause;
	int			 i;

	fake_setup("pids\n");
	cg = fake_open_ok("/");
	for (i = 0; i < 4; i++) {
		cc[i] = cgroup_child_new(cg, "w", NULL, &cause);
		fake_events(cc[i], "populated 1\n");
		ck_assert_int_eq(cgroup_child_wait(cc[i], fake_empty_cb, &fk),
		    0);
	}
	cgroup_child_unwait(cc[1]);
	fk.free_in_cb = true;
	fake_events(cc[0], "populated 0\n");
	fake_events(cc[1], "populated 0\n");	/* no longer waited for */
	fake_events(cc[2], "populated 0\n");
	fake_events(cc[3], "populated 0\n");
	fake_run_until(3);
	ev_run(EV_DEFAULT, EVRUN_NOWAIT);
	ck_assert_int_eq(fk.nempty, 3);
	for (i = 0; i < 3; i++)
		ck_assert_ptr_ne(fk.seen[i], cc[1]);
	cgroup_child_free(cc[1]);
	cgroup_free(cg);		/* asserts no waiter is left */
	fake_teardown();
}
END_TEST

/*
 * The watch goes away (cgroup.events deleted under it: IN_IGNORED): the
 * waiter is polled from then on, and a cgroup that is gone counts as
 * empty.
 */
START_TEST(test_cgroup_fake_wait_falls_back_to_polling)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause, path[512];

	fake_setup("pids\n");
	cg = fake_open_ok("/");
	cc = cgroup_child_new(cg, "web", NULL, &cause);
	fake_events(cc, "populated 1\n");
	ck_assert_int_eq(cgroup_child_wait(cc, fake_empty_cb, &fk), 0);
	snprintf(path, sizeof path, "%s/cgroup.events",
	    cgroup_child_path(cc));
	ck_assert_int_eq(unlink(path), 0);
	fake_run_until(1);
	ck_assert_int_eq(fk.nempty, 1);
	cgroup_child_free(cc);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

START_TEST(test_cgroup_fake_wait_needs_loop)
{
	struct cgroup_opts	 o = {
		.mount = NULL, .own = "/", .instance = "t", .fake = true,
		.made = fake_made, .arg = &fk
	};
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause;

	fake_setup("pids\n");
	o.mount = fk.dir;
	cg = cgroup_open(&o, &cause);
	ck_assert_ptr_nonnull(cg);
	cc = cgroup_child_new(cg, "web", NULL, &cause);
	ck_assert_int_eq(cgroup_child_wait(cc, fake_empty_cb, &fk), -1);
	ck_assert_int_eq(errno, EINVAL);
	cgroup_child_free(cc);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

START_TEST(test_cgroup_fake_leftovers)
{
	static const char	*dirs[] = {
		"web@1", "a%2Fb@7", "supervisor", "notours", "x@", "@5",
		"y@1a", "b.c@2"
	};
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			**names, path[512], *cause;
	size_t			 n, i;

	fake_setup("pids\n");
	cg = fake_open_ok("/");
	for (i = 0; i < NROWS(dirs); i++) {
		snprintf(path, sizeof path, "%s/gtd-t/%s", fk.dir, dirs[i]);
		ck_assert_int_eq(mkdir(path, 0755), 0);
	}
	snprintf(path, sizeof path, "%s/gtd-t/z@3", fk.dir);
	ck_assert_int_eq(close(open(path, O_CREAT | O_WRONLY, 0644)), 0);
	snprintf(path, sizeof path, "%s/gtd-t/s@4", fk.dir);
	ck_assert_int_eq(symlink("/tmp", path), 0);
	ck_assert_int_eq(cgroup_leftovers(cg, 100, &names, &n), 0);
	ck_assert_uint_eq(n, 2);
	qsort(names, n, sizeof *names, cmp_str);
	ck_assert_str_eq(names[0], "a%2Fb@7");
	ck_assert_str_eq(names[1], "web@1");
	cc = cgroup_child_open(cg, names[1], &cause);
	ck_assert_ptr_nonnull(cc);
	ck_assert_str_eq(cgroup_child_cgpath(cc), "/gtd-t/web@1");
	cgroup_child_free(cc);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* Bounded. */
	ck_assert_int_eq(cgroup_leftovers(cg, 1, &names, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(names[0]);
	free(names);
	/* Only names of that form, and never through a symlink. */
	ck_assert_ptr_null(cgroup_child_open(cg, "supervisor", &cause));
	free(cause);
	ck_assert_ptr_null(cgroup_child_open(cg, "../gtd-t", &cause));
	free(cause);
	ck_assert_ptr_null(cgroup_child_open(cg, "s@4", &cause));
	ck_assert_ptr_nonnull(strstr(cause, "s@4"));
	free(cause);
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/* A child's cgroup goes with its sub-cgroups; then the base. */
START_TEST(test_cgroup_fake_remove)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause, path[512];

	fake_setup("pids\n");
	cg = fake_open_ok("/");
	cc = cgroup_child_new(cg, "web", NULL, &cause);
	snprintf(path, sizeof path, "%s/sub", cgroup_child_path(cc));
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/sub/deeper", cgroup_child_path(cc));
	ck_assert_int_eq(mkdir(path, 0755), 0);
	ck_assert_int_eq(cgroup_remove_base(cg), -1);	/* not empty */
	ck_assert(fake_exists("gtd-t"));
	ck_assert_int_eq(cgroup_child_remove(cc), 0);
	ck_assert(!fake_exists("gtd-t/web@1"));
	cgroup_child_free(cc);
	ck_assert_int_eq(cgroup_remove_base(cg), 0);
	ck_assert(!fake_exists("gtd-t"));
	cgroup_free(cg);
	fake_teardown();
}
END_TEST

/*
 * The real hierarchy.
 */

static struct {
	char	 inst[64];
	int	 nempty;
} rl;

/* Open the base of a test instance; NULL (and why) if containment is off. */
static struct cgroup *
real_open_inst(const char *inst, char **cause)
{
	struct cgroup_opts	o = { .loop = EV_DEFAULT, .instance = inst };

	*cause = NULL;
	return (cgroup_open(&o, cause));
}

/* Wait until fn(arg) holds, polling, for at most TEST_DEADLINE_MS. */
static bool
real_until(bool (*fn)(void *), void *arg)
{
	long long	end = test_now_ms() + TEST_DEADLINE_MS * 2;

	while (!fn(arg)) {
		if (test_now_ms() > end)
			return (false);
		(void)poll(NULL, 0, 2);		/* a condition wait's tick */
	}
	return (true);
}

static bool
real_is_empty(void *cc)
{
	return (cgroup_child_populated(cc) == 0);
}

/* Kill and remove what is left in a base, then the base (best effort). */
static void
real_clean(struct cgroup *cg)
{
	struct cgroup_child	*cc;
	char			**names, *cause = NULL;
	size_t			 n, i;

	if (cgroup_leftovers(cg, 1000, &names, &n) == -1)
		return;
	for (i = 0; i < n; i++) {
		if ((cc = cgroup_child_open(cg, names[i], &cause)) != NULL) {
			(void)cgroup_child_kill(cc);	/* best effort */
			(void)real_until(real_is_empty, cc);
			(void)cgroup_child_remove(cc);
			cgroup_child_free(cc);
		}
		free(cause);
		cause = NULL;
		free(names[i]);
	}
	free(names);
	(void)cgroup_remove_base(cg);	/* best effort */
}

/* The bases of earlier test processes that died before cleaning up. */
static void
real_sweep(struct cgroup *cg)
{
	struct dirent	*de;
	struct cgroup	*old;
	char		 dir[512], *slash, *cause;
	DIR		*d;
	long		 pid;

	snprintf(dir, sizeof dir, "%s", cgroup_path(cg));
	if ((slash = strrchr(dir, '/')) == NULL)
		return;
	*slash = '\0';
	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (sscanf(de->d_name, "gtd-cgtest-%ld", &pid) != 1 ||
		    pid == getpid() || kill((pid_t)pid, 0) == 0)
			continue;
		if ((old = real_open_inst(de->d_name + 4, &cause)) != NULL) {
			real_clean(old);
			cgroup_free(old);
		}
		free(cause);
	}
	closedir(d);
}

/* This test's base, or NULL: the test is skipped (said on stderr). */
static struct cgroup *
real_open(void)
{
	struct cgroup	*cg;
	char		*cause;

	snprintf(rl.inst, sizeof rl.inst, "cgtest-%ld", (long)getpid());
	if ((cg = real_open_inst(rl.inst, &cause)) == NULL) {
		fprintf(stderr, "check_cgroup: real cgroup test skipped: "
		    "containment is off: %s\n", cause);
		free(cause);
		return (NULL);
	}
	real_sweep(cg);
	return (cg);
}

static void
real_close(struct cgroup *cg)
{
	real_clean(cg);
	ck_assert_msg(cgroup_remove_base(cg) == 0 || errno == ENOENT,
	    "base left behind: %s", strerror(errno));
	cgroup_free(cg);
}

/* The "0::" cgroup of a process, xmalloc'd, or NULL. */
static char *
real_cgroup_of(pid_t pid)
{
	char	 path[64], *text, *own = NULL;
	FILE	*f;

	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (NULL);
	text = xcalloc(1, 65536);
	(void)fread(text, 1, 65535, f);	/* short: the text ends there */
	fclose(f);
	if (cgroup_parse_self(text, &own) == -1)
		own = NULL;
	free(text);
	return (own);
}

enum real_mode {
	REAL_PAUSE,		/* pause until killed */
	REAL_UNTIL_EOF,		/* close other, exit 0 when fd reaches EOF */
	REAL_ESCAPE,		/* a grandchild leaves the session, reports
				   its pid on other */
	REAL_SPIN		/* burn CPU */
};

/* The child's side: async-signal-safe calls only (a raw clone3). */
static void __attribute__((noreturn))
real_child(enum real_mode mode, int fd, int other)
{
	struct cgroup_clone	plain = { .cgroup_fd = -1 };
	char			c;
	pid_t			pid;
	volatile unsigned long	n = 0;

	switch (mode) {
	case REAL_PAUSE:
		for (;;)
			pause();
	case REAL_UNTIL_EOF:
		close(other);		/* the pipe's write end */
		while (read(fd, &c, 1) > 0)
			;
		_exit(0);
	case REAL_ESCAPE:
		if ((pid = cgroup_clone(&plain)) == 0) {
			(void)setsid();		/* out of the group */
			if ((pid = cgroup_clone(&plain)) == 0) {
				pid = getpid();
				(void)write(other, &pid, sizeof pid);
				for (;;)
					pause();
			}
			_exit(0);		/* orphan the grandchild */
		}
		for (;;)
			pause();
	case REAL_SPIN:
		for (;;)
			n++;
	}
	_exit(127);
}

/* Start a process of mode in cc's cgroup; fd, other: real_child's. */
static pid_t
real_start(struct cgroup_child *cc, enum real_mode mode, int fd, int other)
{
	struct cgroup_clone	c = { .cgroup_fd = cgroup_child_fd(cc) };
	pid_t			pid;

	pid = cgroup_clone(&c);
	if (pid == 0)
		real_child(mode, fd, other);
	ck_assert_msg(pid > 0, "clone3: %s", strerror(errno));
	return (pid);
}

static bool
real_pidfd_dead(int pidfd, int ms)
{
	struct pollfd	pfd = { .fd = pidfd, .events = POLLIN };
	long long	end = test_now_ms() + ms, left;
	int		r;

	/*
	 * libev's SIGCHLD handler (the default loop may exist in this
	 * process) interrupts the poll when a child of ours dies: retry
	 * until the deadline.
	 */
	do {
		left = end - test_now_ms();
		r = poll(&pfd, 1, left > 0 ? (int)left : 0);
	} while (r == -1 && errno == EINTR);
	return (r == 1);
}

static int
real_pidfd(pid_t pid)
{
	int	fd = (int)syscall(SYS_pidfd_open, pid, 0);

	ck_assert_msg(fd != -1, "pidfd_open: %s", strerror(errno));
	return (fd);
}

/* clone3 CLONE_INTO_CGROUP: the child is in its cgroup from the start. */
START_TEST(test_cgroup_real_clone_into)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause = NULL, *where;
	pid_t			 pid;
	int			 p[2], st;

	if ((cg = real_open()) == NULL)
		return;
	cc = cgroup_child_new(cg, "clone into", NULL, &cause);
	ck_assert_msg(cc != NULL, "%s", cause);
	ck_assert_int_eq(cgroup_child_populated(cc), 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = real_start(cc, REAL_UNTIL_EOF, p[0], p[1]);
	close(p[0]);
	where = real_cgroup_of(pid);
	ck_assert_ptr_nonnull(where);
	ck_assert_str_eq(where, cgroup_child_cgpath(cc));
	free(where);
	ck_assert_int_eq(cgroup_child_populated(cc), 1);
	ck_assert_int_eq(cgroup_child_remove(cc), -1);
	ck_assert_int_eq(errno, EBUSY);
	close(p[1]);			/* EOF: it exits */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert(real_until(real_is_empty, cc));
	ck_assert_int_eq(cgroup_child_remove(cc), 0);
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

/* CLONE_PIDFD, and CLONE_PARENT as the spawner process will use it. */
START_TEST(test_cgroup_real_clone_parent_pidfd)
{
	struct cgroup_clone	 c = { .parent = true };
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause = NULL, *where;
	pid_t			 mid, pid;
	int			 e[2], q[2], st, pidfd = -1;

	if ((cg = real_open()) == NULL)
		return;
	cc = cgroup_child_new(cg, "parent", NULL, &cause);
	ck_assert_int_eq(pipe2(e, O_CLOEXEC), 0);	/* the child's EOF */
	ck_assert_int_eq(pipe2(q, O_CLOEXEC), 0);	/* the middle's report */
	c.cgroup_fd = cgroup_child_fd(cc);
	c.pidfd = &pidfd;
	/* A middle process clones for us: the child is ours to reap. */
	ck_assert_int_ge(mid = fork(), 0);
	if (mid == 0) {
		pid = cgroup_clone(&c);
		if (pid == 0)
			real_child(REAL_UNTIL_EOF, e[0], e[1]);
		(void)write(q[1], &pid, sizeof pid);
		_exit(pid > 0 && pidfd >= 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(mid, &st, 0), mid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(read(q[0], &pid, sizeof pid), (ssize_t)sizeof pid);
	where = real_cgroup_of(pid);
	ck_assert_str_eq(where, cgroup_child_cgpath(cc));
	free(where);
	close(e[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);	/* our child */
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	close(e[0]);
	/* The pidfd, in this process: it refers to the new child. */
	c.parent = false;
	ck_assert_int_eq(pipe2(e, O_CLOEXEC), 0);
	pid = cgroup_clone(&c);
	if (pid == 0)
		real_child(REAL_UNTIL_EOF, e[0], e[1]);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_ge(pidfd, 0);
	ck_assert(!real_pidfd_dead(pidfd, 0));
	close(e[1]);
	ck_assert(real_pidfd_dead(pidfd, TEST_DEADLINE_MS));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	close(pidfd);
	close(e[0]);
	close(q[0]);
	close(q[1]);
	ck_assert(real_until(real_is_empty, cc));
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

/* The fallback: fork, then join in the child before exec. */
START_TEST(test_cgroup_real_join_fallback)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause = NULL, *where, c;
	pid_t			 pid;
	int			 p[2], q[2], st;

	if ((cg = real_open()) == NULL)
		return;
	ck_assert(cgroup_clone_unsupported(ENOSYS));
	ck_assert(cgroup_clone_unsupported(E2BIG));
	ck_assert(!cgroup_clone_unsupported(EACCES));
	ck_assert_int_eq(cgroup_join(-1), -1);
	ck_assert_int_eq(errno, EBADF);
	cc = cgroup_child_new(cg, "join", NULL, &cause);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(q, O_CLOEXEC), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		c = cgroup_join(cgroup_child_fd(cc)) == 0 ? 'j' : 'x';
		(void)write(q[1], &c, 1);
		real_child(REAL_UNTIL_EOF, p[0], p[1]);
	}
	close(p[0]);
	ck_assert_int_eq(read(q[0], &c, 1), 1);
	ck_assert_int_eq(c, 'j');
	where = real_cgroup_of(pid);
	ck_assert_str_eq(where, cgroup_child_cgpath(cc));
	free(where);
	close(p[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	close(q[0]);
	close(q[1]);
	ck_assert(real_until(real_is_empty, cc));
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

/*
 * The promise of containment: a grandchild that setsid()s out of the
 * child's process group (where a killpg never reaches it) and is
 * orphaned dies with cgroup.kill.
 */
START_TEST(test_cgroup_real_kill_escaped_grandchild)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause = NULL, *where;
	pid_t			 pid, g;
	int			 p[2], st, gfd, cfd;

	if ((cg = real_open()) == NULL)
		return;
	cc = cgroup_child_new(cg, "escape", NULL, &cause);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = real_start(cc, REAL_ESCAPE, -1, p[1]);
	ck_assert_int_eq(read(p[0], &g, sizeof g), (ssize_t)sizeof g);
	gfd = real_pidfd(g);
	cfd = real_pidfd(pid);
	ck_assert_int_ne(getsid(g), getsid(pid));	/* left the session */
	ck_assert_int_ne(getpgid(g), getpgid(pid));
	where = real_cgroup_of(g);
	ck_assert_str_eq(where, cgroup_child_cgpath(cc));	/* but not this */
	free(where);
	ck_assert_int_eq(cgroup_child_kill(cc), 0);
	ck_assert_msg(real_pidfd_dead(gfd, TEST_DEADLINE_MS),
	    "the grandchild survived cgroup.kill");
	ck_assert(real_pidfd_dead(cfd, TEST_DEADLINE_MS));
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	ck_assert(real_until(real_is_empty, cc));
	ck_assert_int_eq(cgroup_child_remove(cc), 0);
	close(gfd);
	close(cfd);
	close(p[0]);
	close(p[1]);
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

static void
real_empty_cb(struct cgroup_child *cc, void *arg)
{
	rl.nempty++;
	ck_assert_int_eq(cgroup_child_populated(cc), 0);
	ev_break(EV_DEFAULT, EVBREAK_ALL);
}

/* Run the loop until the watcher calls back, or 4 s passed. */
static void
real_run_until(int n)
{
	ev_timer	deadline;
	long long	end = test_now_ms() + 2 * TEST_DEADLINE_MS;

	ev_timer_init(&deadline, fake_deadline_cb, 2. * TEST_DEADLINE_MS /
	    1000., 0.);
	ev_timer_start(EV_DEFAULT, &deadline);
	while (rl.nempty < n && test_now_ms() < end)
		ev_run(EV_DEFAULT, EVRUN_ONCE);
	ev_timer_stop(EV_DEFAULT, &deadline);
}

/*
 * The end of a stop: populated 0 arrives through the loop once the last
 * process is gone (here an escaped grandchild, after the kill).
 */
START_TEST(test_cgroup_real_watch_on_loop)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause = NULL;
	pid_t			 g;
	int			 r[2], cfd;

	if ((cg = real_open()) == NULL)
		return;
	cc = cgroup_child_new(cg, "watch", NULL, &cause);
	ck_assert_int_eq(pipe2(r, O_CLOEXEC), 0);
	(void)real_start(cc, REAL_ESCAPE, -1, r[1]);	/* the loop reaps it */
	ck_assert_int_eq(read(r[0], &g, sizeof g), (ssize_t)sizeof g);
	cfd = real_pidfd(g);
	ck_assert_int_eq(cgroup_child_wait(cc, real_empty_cb, NULL), 0);
	ev_run(EV_DEFAULT, EVRUN_NOWAIT);
	ck_assert_int_eq(rl.nempty, 0);
	ck_assert_int_eq(cgroup_child_kill(cc), 0);
	real_run_until(1);
	ck_assert_int_eq(rl.nempty, 1);
	ck_assert(real_pidfd_dead(cfd, 0));
	ck_assert_int_eq(cgroup_child_remove(cc), 0);
	close(cfd);
	close(r[0]);
	close(r[1]);
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

/*
 * A gtd that died leaves its children's cgroups, processes and all; the
 * next one finds them in its base, kills them and removes them.
 */
START_TEST(test_cgroup_real_leftovers_killed)
{
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause = NULL, **names;
	pid_t			 pid[2], g;
	size_t			 n, i;
	int			 r[2], fds[3];

	if ((cg = real_open()) == NULL)
		return;
	ck_assert_int_eq(pipe2(r, O_CLOEXEC), 0);
	cc = cgroup_child_new(cg, "a", NULL, &cause);
	pid[0] = real_start(cc, REAL_PAUSE, -1, -1);
	cgroup_child_free(cc);
	cc = cgroup_child_new(cg, "b", NULL, &cause);
	pid[1] = real_start(cc, REAL_ESCAPE, -1, r[1]);
	ck_assert_int_eq(read(r[0], &g, sizeof g), (ssize_t)sizeof g);
	cgroup_child_free(cc);
	fds[0] = real_pidfd(pid[0]);
	fds[1] = real_pidfd(pid[1]);
	fds[2] = real_pidfd(g);
	cgroup_free(cg);		/* "the crash": nothing killed */
	ck_assert_ptr_nonnull(cg = real_open_inst(rl.inst, &cause));
	ck_assert_int_eq(cgroup_leftovers(cg, 100, &names, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (i = 0; i < n; i++) {
		cc = cgroup_child_open(cg, names[i], &cause);
		ck_assert_msg(cc != NULL, "%s", cause);
		ck_assert_int_eq(cgroup_child_populated(cc), 1);
		ck_assert_int_eq(cgroup_child_kill(cc), 0);
		if (cgroup_child_wait(cc, real_empty_cb, NULL) == 0)
			real_run_until(rl.nempty + 1);
		ck_assert_int_eq(cgroup_child_populated(cc), 0);
		ck_assert_int_eq(cgroup_child_remove(cc), 0);
		cgroup_child_free(cc);
		free(names[i]);
	}
	free(names);
	for (i = 0; i < 3; i++) {
		ck_assert(real_pidfd_dead(fds[i], TEST_DEADLINE_MS));
		close(fds[i]);
	}
	(void)waitpid(pid[0], NULL, 0);		/* ours: reap them */
	(void)waitpid(pid[1], NULL, 0);
	ck_assert_int_eq(cgroup_remove_base(cg), 0);
	close(r[0]);
	close(r[1]);
	real_close(cg);
}
END_TEST

/*
 * A child may make sub-cgroups (as root): signal reaches their
 * processes, and removal takes them first.
 */
START_TEST(test_cgroup_real_subcgroups)
{
	struct cgroup_clone	 c = { .cgroup_fd = -1 };
	struct cgroup_child	*cc;
	struct cgroup		*cg;
	char			*cause = NULL;
	pid_t			 a, b;
	int			 sub, fa, fb;

	if ((cg = real_open()) == NULL)
		return;
	cc = cgroup_child_new(cg, "nest", NULL, &cause);
	ck_assert_int_eq(mkdirat(cgroup_child_fd(cc), "sub", 0755), 0);
	ck_assert_int_eq(mkdirat(cgroup_child_fd(cc), "sub/deeper", 0755), 0);
	sub = openat(cgroup_child_fd(cc), "sub/deeper", O_PATH | O_DIRECTORY |
	    O_CLOEXEC);
	ck_assert_int_ge(sub, 0);
	a = real_start(cc, REAL_PAUSE, -1, -1);
	c.cgroup_fd = sub;
	if ((b = cgroup_clone(&c)) == 0)
		real_child(REAL_PAUSE, -1, -1);
	ck_assert_int_gt(b, 0);
	fa = real_pidfd(a);
	fb = real_pidfd(b);
	ck_assert_int_eq(cgroup_child_populated(cc), 1);	/* below counts */
	ck_assert_int_eq(cgroup_child_signal(cc, SIGKILL), 0);
	ck_assert(real_pidfd_dead(fa, TEST_DEADLINE_MS));
	ck_assert(real_pidfd_dead(fb, TEST_DEADLINE_MS));
	ck_assert_int_eq(waitpid(a, NULL, 0), a);
	ck_assert_int_eq(waitpid(b, NULL, 0), b);
	ck_assert(real_until(real_is_empty, cc));
	close(sub);
	ck_assert_int_eq(cgroup_child_remove(cc), 0);
	close(fa);
	close(fb);
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

static bool
real_has_cpu(void *cc)
{
	struct cgroup_stats	st;

	return (cgroup_child_stats(cc, &st) == 0 && st.cpu_ms >= 20);
}

/* cpu_ms from cpu.stat (every cgroup2 has it); memory where enabled. */
START_TEST(test_cgroup_real_stats)
{
	struct cgroup_child	*cc;
	struct cgroup_stats	 st;
	struct cgroup		*cg;
	char			*cause = NULL;
	pid_t			 pid;

	if ((cg = real_open()) == NULL)
		return;
	cc = cgroup_child_new(cg, "spin", NULL, &cause);
	ck_assert_int_eq(cgroup_child_stats(cc, &st), 0);
	ck_assert_int_eq(st.cpu_ms, 0);
	if (cgroup_controllers(cg) & CGROUP_MEMORY)
		ck_assert_int_ge(st.memory_bytes, 0);
	else
		ck_assert_int_eq(st.memory_bytes, -1);
	pid = real_start(cc, REAL_SPIN, -1, -1);
	ck_assert_msg(real_until(real_has_cpu, cc), "no cpu_ms in cpu.stat");
	ck_assert_int_eq(cgroup_child_kill(cc), 0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	ck_assert(real_until(real_is_empty, cc));
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

/*
 * Limits, for real: only where the controllers are delegated (not on
 * this project's development host, whose cgroup2 has none: the fake
 * tree covers the logic there).
 */
START_TEST(test_cgroup_real_limits_and_oom)
{
	struct cgroup_child	*cc;
	struct cglimits		 l;
	struct cgroup		*cg;
	char			*cause = NULL, buf[64];
	uint64_t		 ooms = 0;
	pid_t			 pid;
	int			 fd, st;

	if ((cg = real_open()) == NULL)
		return;
	if ((cgroup_controllers(cg) & (CGROUP_MEMORY | CGROUP_PIDS)) !=
	    (CGROUP_MEMORY | CGROUP_PIDS)) {
		fprintf(stderr, "check_cgroup: real limits test skipped: %s\n",
		    cgroup_why(CGROUP_MEMORY, cg) != NULL ?
		    cgroup_why(CGROUP_MEMORY, cg) : cgroup_why(CGROUP_PIDS, cg));
		real_close(cg);
		return;
	}
	cglimits_init(&l);
	l.memory_max = 32 << 20;
	l.pids_max = 4;
	cc = cgroup_child_new(cg, "limited", &l, &cause);
	ck_assert_msg(cc != NULL, "%s", cause);
	fd = openat(cgroup_child_fd(cc), "pids.max", O_RDONLY | O_CLOEXEC);
	ck_assert_int_gt(read(fd, buf, sizeof buf), 0);
	close(fd);
	ck_assert_int_eq(strncmp(buf, "4\n", 2), 0);
	/* A process that touches 256 MiB dies of the OOM killer. */
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		char	*m;
		size_t	 i;

		if (cgroup_join(cgroup_child_fd(cc)) == -1)
			_exit(3);
		if ((m = malloc(256 << 20)) == NULL)
			_exit(2);
		for (i = 0; i < (256u << 20); i += 4096)
			m[i] = 1;
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	    "status %#x", st);
	ck_assert_int_eq(cgroup_child_oom_kills(cc, &ooms), 0);
	ck_assert_uint_ge(ooms, 1);
	ck_assert(real_until(real_is_empty, cc));
	ck_assert_int_eq(cgroup_child_remove(cc), 0);
	cgroup_child_free(cc);
	real_close(cg);
}
END_TEST

Suite *
cgroup_suite(void)
{
	Suite	*s = suite_create("cgroup");
	TCase	*tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_cgroup_parse_mountinfo);
	tcase_add_test(tc, test_cgroup_parse_self);
	tcase_add_loop_test(tc, test_cgroup_path_under_table, 0,
	    NROWS(under_rows));
	tcase_add_test(tc, test_cgroup_dirname);
	tcase_add_test(tc, test_cgroup_parse_keyed);
	tcase_add_test(tc, test_cgroup_parse_controllers);
	suite_add_tcase(s, tc);

	tc = tcase_create("fake");
	tcase_add_test(tc, test_cgroup_fake_hybrid_root);
	tcase_add_test(tc, test_cgroup_fake_root_controllers);
	tcase_add_test(tc, test_cgroup_fake_delegated_moves_gtd);
	tcase_add_test(tc, test_cgroup_fake_partly_delegated);
	tcase_add_test(tc, test_cgroup_fake_configured_path);
	tcase_add_test(tc, test_cgroup_fake_configured_path_bad);
	tcase_add_test(tc, test_cgroup_real_fs_check);
	tcase_add_test(tc, test_cgroup_fake_not_writable);
	tcase_add_test(tc, test_cgroup_fake_own_outside_mount);
	tcase_add_test(tc, test_cgroup_fake_child_limits);
	tcase_add_test(tc, test_cgroup_fake_child_ids);
	tcase_add_test(tc, test_cgroup_fake_limits_fail_cleanly);
	tcase_add_test(tc, test_cgroup_fake_stats_and_oom);
	tcase_add_test(tc, test_cgroup_fake_kill_writes_cgroup_kill);
	tcase_add_test(tc, test_cgroup_fake_kill_fallback_spares_outsiders);
	tcase_add_test(tc, test_cgroup_fake_wait_sees_populated_0);
	tcase_add_test(tc, test_cgroup_fake_wait_many_free_in_cb);
	tcase_add_test(tc, test_cgroup_fake_wait_falls_back_to_polling);
	tcase_add_test(tc, test_cgroup_fake_wait_needs_loop);
	tcase_add_test(tc, test_cgroup_fake_leftovers);
	tcase_add_test(tc, test_cgroup_fake_remove);
	suite_add_tcase(s, tc);

	tc = tcase_create("real");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_cgroup_real_clone_into);
	tcase_add_test(tc, test_cgroup_real_clone_parent_pidfd);
	tcase_add_test(tc, test_cgroup_real_join_fallback);
	tcase_add_test(tc, test_cgroup_real_kill_escaped_grandchild);
	tcase_add_test(tc, test_cgroup_real_watch_on_loop);
	tcase_add_test(tc, test_cgroup_real_leftovers_killed);
	tcase_add_test(tc, test_cgroup_real_subcgroups);
	tcase_add_test(tc, test_cgroup_real_stats);
	tcase_add_test(tc, test_cgroup_real_limits_and_oom);
	suite_add_tcase(s, tc);
	return (s);
}
