/* SPDX-License-Identifier: MIT */
/*
 * check_shmirror: the shared-memory mirror's writer (src/shmirror.c)
 * read back through libgtd's reader (src/lib/mirror.c) and handle (gtd.h):
 * rows and attrs, the file's mode and group, growth into a new file that
 * old readers are told about, the cap (partial records, then a full
 * file, then a rebuild), the buddy allocator under churn, a stale file
 * and a symlink at the path, and a reader fed broken files, which must
 * answer MV_PROTO or MV_RETRY and never fault.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "gt/registry.h"
#include "gt/shmirror.h"
#include "gt/shmlayout.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"
#include "gtd.h"
#include "src/lib/mirror.h"

#include "check_unit.h"

/* A directory with a socket file in it, and the mirror's path. */
struct fix {
	char	dir[64];
	char	sock[128];
	char	path[160];
};

static void
fix_init(struct fix *f, mode_t mode)
{
	struct sockaddr_un	sun;
	int			fd;

	snprintf(f->dir, sizeof f->dir, "/tmp/gtd-shm-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->sock, sizeof f->sock, "%s/sock", f->dir);
	snprintf(f->path, sizeof f->path, "%s%s", f->sock, SHM_SUFFIX);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(f->sock), sizeof sun.sun_path);
	memcpy(sun.sun_path, f->sock, strlen(f->sock));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	/* Bound, never listening: a client's connect is refused. */
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
	close(fd);
	ck_assert_int_eq(chmod(f->sock, mode), 0);
}

static void
fix_done(struct fix *f)
{
	char	cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A published, empty mirror of f with this cap. */
static struct shmirror *
mk(struct fix *f, size_t max, bool owner_only)
{
	struct shmirror_opts	 o = { .path = f->path, .socket = f->sock,
	    .owner_only = owner_only, .max_bytes = max };
	struct shmirror		*m;
	char			*cause = NULL;

	m = shmirror_new(&o, &cause);
	ck_assert_msg(m != NULL, "shmirror_new: %s", cause);
	ck_assert_int_eq(shmirror_rebuild_begin(m), 0);
	ck_assert_int_eq(shmirror_rebuild_end(m), 0);
	return (m);
}

/* A reader's mapping of the path's current file. */
struct rd {
	void		*p;
	size_t		 size;
	struct mview	 v;
};

static void
rd_open(struct rd *r, const char *path)
{
	struct stat	st;
	int		fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	r->size = (size_t)st.st_size;
	r->p = mmap(NULL, r->size, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert(r->p != MAP_FAILED);
	close(fd);
	ck_assert_int_eq(mview_init(&r->v, r->p, r->size), MV_OK);
}

static void
rd_close(struct rd *r)
{
	munmap(r->p, r->size);
}

/* Look name (and key) up; nothing writes meanwhile: no retry. */
static enum mv_rc
get(struct rd *r, const char *name, const char *key, struct mget *g,
    char *buf, size_t size)
{
	memset(g, 0, sizeof *g);
	g->name = name;
	g->len = strlen(name);
	g->key = key;
	g->klen = key != NULL ? strlen(key) : 0;
	g->buf = buf;
	g->bufsize = size;
	return (mview_get(&r->v, g));
}

static struct value
ival(int64_t i)
{
	struct value	v = { .type = VALUE_INT, .i = i };

	return (v);
}

static struct value
sval(enum value_type t, const char *s)
{
	struct value	v = { .type = t, .s = (char *)(uintptr_t)s };

	return (v);
}

START_TEST(test_shm_rows)
{
	struct fix	 f;
	struct shmirror	*m;
	struct rd	 r;
	struct mget	 g;

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	rd_open(&r, f.path);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_NOTFOUND);
	ck_assert_int_eq(shmirror_child_put(m, "web", 1234, "starting", 0), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 1234);
	ck_assert_str_eq(g.state, "starting");
	ck_assert_int_eq(g.restart_count, 0);
	ck_assert_int_eq(shmirror_child_put(m, "web", 1235, "running", 3), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 1235);
	ck_assert_str_eq(g.state, "running");
	ck_assert_int_eq(g.restart_count, 3);
	ck_assert_int_eq(shmirror_child_put(m, "web", -1, "stopped", 3), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 0);
	ck_assert_int_eq(get(&r, "we", NULL, &g, NULL, 0), MV_NOTFOUND);
	ck_assert_int_eq(get(&r, "webb", NULL, &g, NULL, 0), MV_NOTFOUND);
	ck_assert_int_eq(shmirror_child_del(m, "web"), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_NOTFOUND);
	rd_close(&r);
	shmirror_free(m);
	ck_assert_int_eq(access(f.path, F_OK), -1);	/* gone with gtd */
	fix_done(&f);
}
END_TEST

/* Every attr of a record, in index order, as "k=v;" text. */
static void
dump_attrs(struct rd *r, const char *name, char *out, size_t size)
{
	struct mbuf	b = { NULL, 0, 0 };
	struct mattr	a;
	struct mget	g;
	uint32_t	i;
	size_t		n = 0;

	ck_assert_int_eq(mview_copy(&r->v, name, strlen(name), &b), MV_OK);
	ck_assert_int_eq(mrec_fixed(&b, &g), 0);
	out[0] = '\0';
	for (i = 0; i < g.nattrs; i++) {
		ck_assert_int_eq(mrec_attr(&b, i, &a), 0);
		if (a.type == SHM_T_INT)
			n += snprintf(out + n, size - n, "%s=%lld;", a.key,
			    (long long)a.i);
		else if (a.type == SHM_T_REAL)
			n += snprintf(out + n, size - n, "%s=%g;", a.key, a.r);
		else
			n += snprintf(out + n, size - n, "%s=%c%s;", a.key,
			    a.type == SHM_T_TEXT ? 's' : 'j', a.s);
	}
	free(b.p);
}

START_TEST(test_shm_attrs)
{
	struct fix	 f;
	struct shmirror	*m;
	struct rd	 r;
	struct mget	 g;
	struct value	 v;
	char		 buf[64], all[512];

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	rd_open(&r, f.path);
	ck_assert_int_eq(shmirror_child_put(m, "a", 10, "running", 0), 0);
	v = ival(7);
	ck_assert_int_eq(shmirror_attr_set(m, "a", "n", &v), 0);
	v.type = VALUE_REAL;
	v.r = 2.5;
	ck_assert_int_eq(shmirror_attr_set(m, "a", "d", &v), 0);
	v = sval(VALUE_TEXT, "hello");
	ck_assert_int_eq(shmirror_attr_set(m, "a", "s", &v), 0);
	v = sval(VALUE_JSON, "[1,2]");
	ck_assert_int_eq(shmirror_attr_set(m, "a", "j", &v), 0);
	v = sval(VALUE_TEXT, "x");
	ck_assert_int_eq(shmirror_attr_set(m, "a", "ss", &v), 0);
	dump_attrs(&r, "a", all, sizeof all);
	ck_assert_str_eq(all, "d=2.5;j=j[1,2];n=7;s=shello;ss=sx;");

	ck_assert_int_eq(get(&r, "a", "n", &g, buf, sizeof buf), MV_OK);
	ck_assert(g.has_attr);
	ck_assert_int_eq(g.type, SHM_T_INT);
	ck_assert_int_eq(g.i, 7);
	ck_assert_int_eq(get(&r, "a", "s", &g, buf, sizeof buf), MV_OK);
	ck_assert_int_eq(g.type, SHM_T_TEXT);
	ck_assert_str_eq(buf, "hello");
	ck_assert_int_eq(get(&r, "a", "s", &g, buf, 3), MV_OK);
	ck_assert_int_eq(g.vlen, 5);	/* too small: the length, no copy */
	ck_assert_int_eq(get(&r, "a", "t", &g, buf, sizeof buf), MV_OK);
	ck_assert(!g.has_attr);

	/* The same size in place, another size moved, the fixed fields kept. */
	v = ival(8);
	ck_assert_int_eq(shmirror_attr_set(m, "a", "n", &v), 0);
	v = sval(VALUE_TEXT, "a much longer text than before, to move it");
	ck_assert_int_eq(shmirror_attr_set(m, "a", "s", &v), 0);
	ck_assert_int_eq(get(&r, "a", "s", &g, buf, sizeof buf), MV_OK);
	ck_assert_str_eq(buf, "a much longer text than before, to move it");
	ck_assert_int_eq(g.pid, 10);
	ck_assert_str_eq(g.state, "running");
	ck_assert_int_eq(shmirror_attr_del(m, "a", "j"), 0);
	ck_assert_int_eq(shmirror_attr_del(m, "a", "nope"), 0);
	dump_attrs(&r, "a", all, sizeof all);
	ck_assert_str_eq(all, "d=2.5;n=8;s=sa much longer text than before, "
	    "to move it;ss=sx;");
	ck_assert_int_eq(shmirror_attr_clear(m, "a"), 0);
	dump_attrs(&r, "a", all, sizeof all);
	ck_assert_str_eq(all, "");
	ck_assert_int_eq(get(&r, "a", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 10);

	/* Attrs of a name without a row make a record without a state. */
	v = ival(1);
	ck_assert_int_eq(shmirror_attr_set(m, "orphan", "k", &v), 0);
	ck_assert_int_eq(get(&r, "orphan", "k", &g, buf, sizeof buf), MV_OK);
	ck_assert_str_eq(g.state, "");
	ck_assert_int_eq(g.i, 1);
	rd_close(&r);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

START_TEST(test_shm_batch)
{
	struct fix	 f;
	struct shmirror	*m;
	struct rd	 r;
	struct mget	 g;
	struct value	 v;
	char		 all[256];

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	rd_open(&r, f.path);
	ck_assert_int_eq(shmirror_child_put(m, "a", 5, "running", 0), 0);
	v = ival(1);
	ck_assert_int_eq(shmirror_attr_set(m, "a", "old", &v), 0);
	/* Nothing of a batch shows before its end, then all of it. */
	shmirror_batch_begin(m, "a");
	ck_assert_int_eq(shmirror_attr_clear(m, "a"), 0);
	v = ival(2);
	ck_assert_int_eq(shmirror_attr_set(m, "a", "n", &v), 0);
	v = sval(VALUE_TEXT, "two");
	ck_assert_int_eq(shmirror_attr_set(m, "a", "s", &v), 0);
	dump_attrs(&r, "a", all, sizeof all);
	ck_assert_str_eq(all, "old=1;");
	ck_assert_int_eq(shmirror_batch_end(m), 0);
	dump_attrs(&r, "a", all, sizeof all);
	ck_assert_str_eq(all, "n=2;s=stwo;");
	ck_assert_int_eq(get(&r, "a", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 5);
	/* Another row's change stores the batch so far first... */
	shmirror_batch_begin(m, "a");
	v = ival(3);
	ck_assert_int_eq(shmirror_attr_set(m, "a", "n", &v), 0);
	ck_assert_int_eq(shmirror_child_put(m, "b", 6, "running", 0), 0);
	dump_attrs(&r, "a", all, sizeof all);
	ck_assert_str_eq(all, "n=3;s=stwo;");
	/* ...and its own row's ends it, its fixed fields kept. */
	v = ival(4);
	ck_assert_int_eq(shmirror_attr_set(m, "a", "n", &v), 0);
	ck_assert_int_eq(shmirror_child_put(m, "a", 7, "stopping", 1), 0);
	v = ival(5);
	ck_assert_int_eq(shmirror_attr_set(m, "a", "m", &v), 0);
	dump_attrs(&r, "a", all, sizeof all);
	ck_assert_str_eq(all, "m=5;n=4;s=stwo;");
	ck_assert_int_eq(get(&r, "a", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 7);
	ck_assert_str_eq(g.state, "stopping");
	ck_assert_int_eq(shmirror_batch_end(m), 0);
	/* A batch of a row without a record makes one. */
	shmirror_batch_begin(m, "new");
	v = ival(9);
	ck_assert_int_eq(shmirror_attr_set(m, "new", "k", &v), 0);
	ck_assert_int_eq(get(&r, "new", NULL, &g, NULL, 0), MV_NOTFOUND);
	ck_assert_int_eq(shmirror_batch_end(m), 0);
	dump_attrs(&r, "new", all, sizeof all);
	ck_assert_str_eq(all, "k=9;");
	rd_close(&r);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

static mode_t
mode_of(struct fix *f, mode_t sockmode, bool owner_only, gid_t *gid)
{
	struct shmirror	*m;
	struct stat	 st;

	ck_assert_int_eq(chmod(f->sock, sockmode), 0);
	m = mk(f, SHM_MIN_BYTES, owner_only);
	ck_assert_int_eq(lstat(f->path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_uid, geteuid());
	*gid = st.st_gid;
	shmirror_free(m);
	return (st.st_mode & 07777);
}

START_TEST(test_shm_modes)
{
	struct fix	f;
	struct stat	st;
	gid_t		gid;

	fix_init(&f, 0660);
	/* The group that may connect is the group that may read. */
	ck_assert_int_eq(chown(f.sock, (uid_t)-1, 4), 0);	/* adm */
	ck_assert_int_eq(mode_of(&f, 0660, false, &gid), 0640);
	ck_assert_int_eq(lstat(f.sock, &st), 0);
	ck_assert_int_eq(gid, st.st_gid);
	ck_assert_int_eq(mode_of(&f, 0666, false, &gid), 0644);
	ck_assert_int_eq(mode_of(&f, 0600, false, &gid), 0600);
	ck_assert_int_eq(mode_of(&f, 0620, false, &gid), 0640);
	ck_assert_int_eq(mode_of(&f, 0640, false, &gid), 0600);
	ck_assert_int_eq(mode_of(&f, 0666, true, &gid), 0600);
	fix_done(&f);
}
END_TEST

START_TEST(test_shm_growth)
{
	struct fix		 f;
	struct shmirror		*m;
	struct shmirror_info	 i;
	struct rd		 r, r2;
	struct mget		 g;
	struct value		 v;
	char			 name[32], text[200], buf[256];
	int			 k;

	fix_init(&f, 0660);
	m = mk(&f, 8u << 20, false);
	rd_open(&r, f.path);
	memset(text, 'x', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	for (k = 0; k < 2000; k++) {
		snprintf(name, sizeof name, "c%d", k);
		ck_assert_int_eq(shmirror_child_put(m, name, k + 1, "running",
		    0), 0);
		v = sval(VALUE_TEXT, text);
		ck_assert_int_eq(shmirror_attr_set(m, name, "t", &v), 0);
	}
	shmirror_info(m, &i);
	ck_assert_uint_gt(i.generation, 1);
	ck_assert_uint_gt(i.file_size, SHM_MIN_BYTES);
	ck_assert_uint_le(i.file_size, 8u << 20);
	ck_assert_int_eq(i.nrecords, 2000);
	ck_assert(!shmirror_degraded(m));
	/* The first file's reader is told; a new reader sees every row. */
	ck_assert_int_eq(get(&r, "c0", NULL, &g, NULL, 0), MV_REPLACED);
	rd_open(&r2, f.path);
	for (k = 0; k < 2000; k++) {
		snprintf(name, sizeof name, "c%d", k);
		ck_assert_int_eq(get(&r2, name, "t", &g, buf, sizeof buf),
		    MV_OK);
		ck_assert_int_eq(g.pid, k + 1);
		ck_assert_str_eq(buf, text);
	}
	rd_close(&r);
	rd_close(&r2);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

START_TEST(test_shm_full)
{
	struct fix		 f;
	struct shmirror		*m;
	struct shmirror_info	 i;
	struct rd		 r, r2;
	struct mget		 g;
	struct value		 v;
	char			 name[32], text[1500];
	int			 k, partial = 0;

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	rd_open(&r, f.path);
	memset(text, 'y', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	v = sval(VALUE_TEXT, text);
	/* 1.5 KiB attrs fill 64 KiB: the records that do not fit go partial. */
	for (k = 0; k < 60; k++) {
		snprintf(name, sizeof name, "p%d", k);
		ck_assert_int_eq(shmirror_child_put(m, name, 100 + k,
		    "running", 0), 0);
		if (shmirror_attr_set(m, name, "t", &v) == -1)
			partial++;
	}
	ck_assert_int_gt(partial, 0);
	ck_assert(shmirror_degraded(m));
	shmirror_info(m, &i);
	ck_assert_int_eq(i.npartial, partial);
	ck_assert(!i.full);
	ck_assert_int_eq(get(&r, "p59", "t", &g, NULL, 0), MV_OK);
	ck_assert(g.rflags & SHM_R_PARTIAL);	/* ask the socket for it */
	ck_assert_int_eq(g.pid, 159);		/* the row is still right */
	ck_assert_int_eq(get(&r, "p0", "t", &g, NULL, 0), MV_OK);
	ck_assert(!(g.rflags & SHM_R_PARTIAL));
	/* A cleared record is whole again. */
	ck_assert_int_eq(shmirror_attr_clear(m, "p59"), 0);
	ck_assert_int_eq(get(&r, "p59", NULL, &g, NULL, 0), MV_OK);
	ck_assert(!(g.rflags & SHM_R_PARTIAL));
	/* More rows than blocks: the file is marked full, then left be. */
	for (k = 0; k < 2000; k++) {
		shmirror_info(m, &i);
		if (i.full)
			break;
		snprintf(name, sizeof name, "q%d", k);
		shmirror_child_put(m, name, 1, "running", 0);
	}
	ck_assert(i.full);
	ck_assert_int_eq(get(&r, "p0", NULL, &g, NULL, 0), MV_FULL);
	ck_assert_int_eq(shmirror_child_put(m, "late", 1, "running", 0), 0);
	/* A rebuild of what fits replaces it. */
	ck_assert_int_eq(shmirror_rebuild_begin(m), 0);
	ck_assert_int_eq(shmirror_child_put(m, "p0", 100, "running", 0), 0);
	ck_assert_int_eq(shmirror_attr_set(m, "p0", "t", &v), 0);
	ck_assert_int_eq(shmirror_rebuild_end(m), 0);
	ck_assert(!shmirror_degraded(m));
	ck_assert_int_eq(get(&r, "p0", NULL, &g, NULL, 0), MV_REPLACED);
	rd_open(&r2, f.path);
	ck_assert_int_eq(get(&r2, "p0", "t", &g, NULL, 0), MV_OK);
	ck_assert(g.has_attr);
	ck_assert_int_eq(get(&r2, "q0", NULL, &g, NULL, 0), MV_NOTFOUND);
	/* A rebuild that does not fit changes nothing. */
	ck_assert_int_eq(shmirror_rebuild_begin(m), 0);
	for (k = 0; k < 60; k++) {
		snprintf(name, sizeof name, "p%d", k);
		shmirror_child_put(m, name, 1, "running", 0);
		shmirror_attr_set(m, name, "t", &v);
	}
	ck_assert_int_eq(shmirror_rebuild_end(m), -1);
	ck_assert_int_eq(get(&r2, "p0", "t", &g, NULL, 0), MV_OK);
	ck_assert_int_eq(get(&r2, "p1", NULL, &g, NULL, 0), MV_NOTFOUND);
	rd_close(&r);
	rd_close(&r2);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

START_TEST(test_shm_buddy)
{
	struct fix		 f;
	struct shmirror		*m;
	struct shmirror_info	 i;
	struct rd		 r;
	struct mget		 g;
	struct value		 v;
	static char		 live[400];
	char			 name[32], text[3000], buf[3100];
	int			 k, n, len;
	uint64_t		 gen;

	fix_init(&f, 0660);
	m = mk(&f, 4u << 20, false);
	memset(text, 'z', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	srandom(42);
	for (k = 0; k < 6000; k++) {
		n = (int)(random() % 400);
		snprintf(name, sizeof name, "b%d", n);
		if (live[n] && random() % 3 == 0) {
			ck_assert_int_eq(shmirror_child_del(m, name), 0);
			live[n] = 0;
			continue;
		}
		len = (int)(random() % 2000);
		text[len] = '\0';
		v = sval(VALUE_TEXT, text);
		ck_assert_int_eq(shmirror_child_put(m, name, n + 1, "running",
		    0), 0);
		ck_assert_int_eq(shmirror_attr_set(m, name, "t", &v), 0);
		text[len] = 'z';
		live[n] = 1;
	}
	ck_assert(!shmirror_degraded(m));
	rd_open(&r, f.path);
	for (n = 0; n < 400; n++) {
		snprintf(name, sizeof name, "b%d", n);
		ck_assert_int_eq(get(&r, name, "t", &g, buf, sizeof buf),
		    live[n] ? MV_OK : MV_NOTFOUND);
		if (live[n])
			ck_assert_int_eq(g.pid, n + 1);
	}
	rd_close(&r);
	for (n = 0; n < 400; n++) {
		snprintf(name, sizeof name, "b%d", n);
		ck_assert_int_eq(shmirror_child_del(m, name), 0);
	}
	/* Everything freed and merged back: a huge record fits at once. */
	shmirror_info(m, &i);
	ck_assert_int_eq(i.used, 0);
	ck_assert_int_eq(i.nrecords, 0);
	gen = i.generation;
	v = sval(VALUE_TEXT, text);
	for (k = 0; k < 8; k++) {
		snprintf(name, sizeof name, "big%d", k);
		ck_assert_int_eq(shmirror_attr_set(m, name, "t", &v), 0);
	}
	shmirror_info(m, &i);
	ck_assert_uint_eq(i.generation, gen);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

START_TEST(test_shm_stale_and_symlink)
{
	struct fix	 f;
	struct shmirror	*m1, *m2;
	struct rd	 r1, r2;
	struct mget	 g;
	struct stat	 st;
	char		 victim[192], buf[16];
	int		 fd;

	fix_init(&f, 0660);
	/* A symlink at the path is replaced, its target left alone. */
	snprintf(victim, sizeof victim, "%s/victim", f.dir);
	fd = open(victim, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_eq(write(fd, "keep", 4), 4);
	close(fd);
	ck_assert_int_eq(symlink(victim, f.path), 0);
	m1 = mk(&f, SHM_MIN_BYTES, false);
	ck_assert_int_eq(lstat(f.path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_int_eq(st.st_size, 4);
	fd = open(victim, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 4);
	close(fd);
	ck_assert_int_eq(memcmp(buf, "keep", 4), 0);

	/* A later gtd (the first one "crashed") tells the old readers. */
	ck_assert_int_eq(shmirror_child_put(m1, "x", 1, "running", 0), 0);
	rd_open(&r1, f.path);
	m2 = mk(&f, SHM_MIN_BYTES, false);
	ck_assert_int_eq(get(&r1, "x", NULL, &g, NULL, 0), MV_REPLACED);
	ck_assert(atomic_load(&((struct shm_header *)r1.p)->flags) &
	    SHM_F_CLOSED);
	rd_open(&r2, f.path);
	ck_assert_int_eq(get(&r2, "x", NULL, &g, NULL, 0), MV_NOTFOUND);
	shmirror_free(m1);		/* not its file any more: stays */
	ck_assert_int_eq(access(f.path, F_OK), 0);
	shmirror_free(m2);
	ck_assert_int_eq(access(f.path, F_OK), -1);
	ck_assert_int_eq(get(&r2, "x", NULL, &g, NULL, 0), MV_REPLACED);
	rd_close(&r1);
	rd_close(&r2);
	fix_done(&f);
}
END_TEST

/* A private, writable copy of a mirror file, to break. */
static uint8_t *
copy_of(struct rd *r)
{
	uint8_t	*p;

	ck_assert_int_eq(posix_memalign((void **)&p, 64, r->size), 0);
	memcpy(p, r->p, r->size);
	return (p);
}

/* Every reader entry point on p; none may fault, any answer goes. */
static void
read_all(const uint8_t *p, size_t size)
{
	struct mview	v;
	struct mget	g;
	struct mbuf	b = { NULL, 0, 0 };
	struct mattr	a;
	char		buf[64];
	uint32_t	i;

	if (mview_init(&v, p, size) != MV_OK)
		return;
	memset(&g, 0, sizeof g);
	g.name = "w1";
	g.len = 2;
	g.key = "k";
	g.klen = 1;
	g.buf = buf;
	g.bufsize = sizeof buf;
	(void)mview_get(&v, &g);
	for (i = 0; i < mview_nbuckets(&v) && i < 64; i++)
		(void)mview_list(&v, i, &b);
	if (mview_copy(&v, "w2", 2, &b) == MV_OK &&
	    mrec_fixed(&b, &g) == 0)
		for (i = 0; i < g.nattrs && i < 16; i++)
			(void)mrec_attr(&b, i, &a);
	free(b.p);
}

START_TEST(test_shm_reader_broken)
{
	struct fix		 f;
	struct shmirror		*m;
	struct rd		 r;
	struct mview		 v;
	struct mget		 g;
	struct value		 val;
	struct shm_header	*h;
	struct shm_bucket	*bk;
	uint8_t			*p;
	uint32_t		 off;
	char			 name[8];
	int			 k, j;

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	for (k = 0; k < 8; k++) {
		snprintf(name, sizeof name, "w%d", k);
		shmirror_child_put(m, name, k + 1, "running", 0);
		val = ival(k);
		shmirror_attr_set(m, name, "k", &val);
		val = sval(VALUE_TEXT, "text");
		shmirror_attr_set(m, name, "t", &val);
	}
	rd_open(&r, f.path);
	ck_assert_int_eq(get(&r, "w1", NULL, &g, NULL, 0), MV_OK);

	/* Headers that do not add up. */
	p = copy_of(&r);
	h = (struct shm_header *)p;
	h->magic[0] = 'X';
	ck_assert_int_eq(mview_init(&v, p, r.size), MV_PROTO);
	memcpy(p, r.p, SHM_HEADER_SIZE);
	h->version = 2;
	ck_assert_int_eq(mview_init(&v, p, r.size), MV_PROTO);
	memcpy(p, r.p, SHM_HEADER_SIZE);
	h->nbuckets = 3;
	ck_assert_int_eq(mview_init(&v, p, r.size), MV_PROTO);
	memcpy(p, r.p, SHM_HEADER_SIZE);
	h->file_size = r.size + 8;		/* longer than the mapping */
	ck_assert_int_eq(mview_init(&v, p, r.size), MV_PROTO);
	memcpy(p, r.p, SHM_HEADER_SIZE);
	h->heap_off = (uint32_t)r.size + 8;
	ck_assert_int_eq(mview_init(&v, p, r.size), MV_PROTO);
	memcpy(p, r.p, SHM_HEADER_SIZE);
	h->nbuckets = 1u << 30;			/* buckets past the heap */
	ck_assert_int_eq(mview_init(&v, p, r.size), MV_PROTO);
	ck_assert_int_eq(mview_init(&v, p, SHM_HEADER_SIZE - 1), MV_PROTO);

	/* A chain into the header, off the end, misaligned, or a cycle. */
	memcpy(p, r.p, r.size);
	ck_assert_int_eq(mview_init(&v, p, r.size), MV_OK);
	memset(&g, 0, sizeof g);
	g.name = "w1";
	g.len = 2;
	bk = (struct shm_bucket *)(p + v.buckets_off) +
	    (mview_hash(&v, "w1", 2) & v.mask);
	off = atomic_load(&bk->head);
	atomic_store(&bk->head, 8);
	ck_assert_int_eq(mview_get(&v, &g), MV_PROTO);
	atomic_store(&bk->head, (uint32_t)r.size - 16);
	ck_assert_int_eq(mview_get(&v, &g), MV_PROTO);
	atomic_store(&bk->head, off + 4);
	ck_assert_int_eq(mview_get(&v, &g), MV_PROTO);
	atomic_store(&bk->head, off);
	atomic_store(&((struct shm_record *)(p + off))->next, off);
	atomic_store(&((struct shm_record *)(p + off))->hash, 0);
	ck_assert_int_eq(mview_get(&v, &g), MV_PROTO);	/* bounded walk */
	memcpy(p, r.p, r.size);
	atomic_store(&((struct shm_record *)(p + off))->size, 1u << 30);
	ck_assert_int_eq(mview_get(&v, &g), MV_PROTO);

	/* A writer in the middle of a change: try again. */
	memcpy(p, r.p, r.size);
	atomic_store(&bk->seq, atomic_load(&bk->seq) | 1);
	ck_assert_int_eq(mview_get(&v, &g), MV_RETRY);
	memcpy(p, r.p, r.size);
	atomic_fetch_or(&h->flags, SHM_F_FULL);
	ck_assert_int_eq(mview_get(&v, &g), MV_FULL);

	/* Random damage anywhere: answers, never a fault. */
	srandom(7);
	for (k = 0; k < 20000; k++) {
		memcpy(p, r.p, r.size);
		for (j = 0; j < 1 + k % 8; j++)
			p[SHM_HEADER_SIZE + (size_t)random() % (r.size -
			    SHM_HEADER_SIZE)] = (uint8_t)random();
		if (k % 50 == 0)
			p[(size_t)random() % SHM_HEADER_SIZE] =
			    (uint8_t)random();
		read_all(p, r.size);
	}
	free(p);
	rd_close(&r);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

START_TEST(test_shm_collide)
{
	struct fix	 f;
	struct shmirror	*m;
	struct rd	 r;
	struct mget	 g;
	char		 name[16];
	int		 k;

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	rd_open(&r, f.path);
	/* ~3 rows per bucket in a 64 KiB file, and none grows it. */
	for (k = 0; k < 800; k++) {
		snprintf(name, sizeof name, "n%d", k);
		ck_assert_int_eq(shmirror_child_put(m, name, k + 1, "running",
		    0), 0);
	}
	for (k = 0; k < 800; k += 2) {
		snprintf(name, sizeof name, "n%d", k);
		ck_assert_int_eq(shmirror_child_del(m, name), 0);
	}
	for (k = 0; k < 800; k++) {
		snprintf(name, sizeof name, "n%d", k);
		ck_assert_int_eq(get(&r, name, NULL, &g, NULL, 0),
		    k % 2 ? MV_OK : MV_NOTFOUND);
		if (k % 2)
			ck_assert_int_eq(g.pid, k + 1);
	}
	rd_close(&r);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

static int
count_rows(const char *name, const struct gtd_child *c, void *arg)
{
	(*(int *)arg)++;
	return (strcmp(name, "stop-here") == 0 ? 42 : 0);
}

START_TEST(test_shm_libgtd)
{
	struct fix		 f;
	struct shmirror		*m;
	struct gtd_handle	*h;
	struct gtd_child	 c;
	struct gtd_value	 gv;
	struct gtd_mirror_stat	 st;
	struct value		 v;
	char			 buf[64], name[16], text[300];
	size_t			 len;
	int64_t			 i;
	double			 d;
	int			 n = 0, k;

	fix_init(&f, 0660);
	m = mk(&f, 4u << 20, false);
	h = gtd_open(f.sock);
	ck_assert_ptr_nonnull(h);
	shmirror_child_put(m, "web", 77, "running", 2);
	shmirror_child_put(m, "old", -1, "stopped", 0);
	v = ival(-5);
	shmirror_attr_set(m, "web", "n", &v);
	v.type = VALUE_REAL;
	v.r = 0.25;
	shmirror_attr_set(m, "web", "d", &v);
	v = sval(VALUE_TEXT, "tab\there \"q\"");
	shmirror_attr_set(m, "web", "s", &v);
	v = sval(VALUE_JSON, "{\"a\":true}");
	shmirror_attr_set(m, "web", "j", &v);

	ck_assert_int_eq(gtd_find(h, "web", &c), GTD_OK);
	ck_assert_int_eq(c.pid, 77);
	ck_assert_int_eq(c.state, GTD_RUNNING);
	ck_assert_int_eq(c.restart_count, 2);
	ck_assert_int_eq(gtd_find(h, "old", &c), GTD_ENOTRUNNING);
	ck_assert_int_eq(c.state, GTD_STOPPED);
	ck_assert_int_eq(gtd_info(h, "old", &c), GTD_OK);
	ck_assert_int_eq(gtd_find(h, "none", &c), GTD_ENOTFOUND);
	ck_assert_int_eq(gtd_find(h, "", &c), GTD_EINVAL);
	ck_assert_int_eq(gtd_getattr_int(h, "web", "n", &i), GTD_OK);
	ck_assert_int_eq(i, -5);
	ck_assert_int_eq(gtd_getattr_double(h, "web", "d", &d), GTD_OK);
	ck_assert(d == 0.25);
	ck_assert_int_eq(gtd_getattr_double(h, "web", "n", &d), GTD_ETYPE);
	ck_assert_int_eq(gtd_getattr_int(h, "web", "s", &i), GTD_ETYPE);
	ck_assert_int_eq(gtd_getattr_string(h, "web", "s", buf, sizeof buf,
	    &len), GTD_OK);
	ck_assert_str_eq(buf, "tab\there \"q\"");
	ck_assert_int_eq(gtd_getattr_string(h, "web", "s", buf, 4, &len),
	    GTD_ERANGE);
	ck_assert_int_eq(len, 12);
	ck_assert_int_eq(gtd_getattr_json(h, "web", "s", buf, sizeof buf,
	    &len), GTD_OK);
	ck_assert_str_eq(buf, "\"tab\\u0009here \\\"q\\\"\"");
	ck_assert_int_eq(gtd_getattr_json(h, "web", "j", buf, sizeof buf,
	    &len), GTD_OK);
	ck_assert_str_eq(buf, "{\"a\":true}");
	ck_assert_int_eq(gtd_getattr_json(h, "web", "n", buf, sizeof buf,
	    &len), GTD_OK);
	ck_assert_str_eq(buf, "-5");
	ck_assert_int_eq(gtd_getattr_json(h, "web", "d", buf, sizeof buf,
	    &len), GTD_OK);
	ck_assert_str_eq(buf, "0.25");
	ck_assert_int_eq(gtd_getattr(h, "web", "zz", &gv, buf, sizeof buf),
	    GTD_ENOATTR);
	ck_assert_int_eq(gtd_getattr(h, "old", "n", &gv, buf, sizeof buf),
	    GTD_ENOTRUNNING);
	ck_assert_int_eq(gtd_foreach(h, count_rows, &n), 0);
	ck_assert_int_eq(n, 2);

	/* A replaced file is mapped again at the same address. */
	memset(text, 'g', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	for (k = 0; k < 1000; k++) {
		snprintf(name, sizeof name, "g%d", k);
		v = sval(VALUE_TEXT, text);
		shmirror_attr_set(m, name, "t", &v);
	}
	shmirror_child_put(m, "stop-here", 1, "running", 0);
	ck_assert_int_eq(gtd_find(h, "g999", &c), GTD_ENOTRUNNING);
	gtd_mirror_stat(h, &st);
	ck_assert(st.mapped);
	ck_assert_uint_gt(st.remaps, 1);
	ck_assert_uint_gt(st.generation, 1);
	ck_assert_uint_eq(st.fallbacks, 0);
	n = 0;
	ck_assert_int_eq(gtd_foreach(h, count_rows, &n), 42);

	/* Without a mirror the socket answers: here nobody listens. */
	shmirror_free(m);
	ck_assert_int_eq(gtd_find(h, "web", &c), GTD_ESYS);
	ck_assert(strstr(gtd_errmsg(h), f.sock) != NULL);
	gtd_mirror_stat(h, &st);
	ck_assert(!st.mapped);
	ck_assert_uint_eq(st.fallbacks, 1);
	gtd_close(h);
	fix_done(&f);
}
END_TEST

/*
 * Another node's row: pid, state and node, no attrs (attr changes leave
 * it be), replaced by a local row of the name; not a degraded record.
 */
START_TEST(test_shm_remote)
{
	struct fix		 f;
	struct shmirror		*m;
	struct shmirror_info	 i;
	struct rd		 r;
	struct mget		 g;
	struct mbuf		 b = { NULL, 0, 0 };
	struct shm_record	*rec;
	struct value		 v = ival(7);
	char			 big[SHM_NODE_MAX + 2];

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	rd_open(&r, f.path);
	ck_assert_int_eq(shmirror_remote_put(m, "web", "n2", 77, "running"),
	    0);
	ck_assert_int_eq(get(&r, "web", "k", &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 77);
	ck_assert_str_eq(g.state, "running");
	ck_assert_uint_eq(g.nattrs, 0);
	ck_assert_uint_eq(g.rflags, SHM_R_REMOTE | SHM_R_PARTIAL);
	ck_assert_int_eq(mview_copy(&r.v, "web", 3, &b), MV_OK);
	rec = (struct shm_record *)(void *)b.p;
	ck_assert_uint_eq(rec->node_len, 2);
	ck_assert_uint_ge(b.len, SHM_INDEX_OFF(3) + 3);
	ck_assert_str_eq((char *)b.p + SHM_INDEX_OFF(3), "n2");
	shmirror_info(m, &i);
	ck_assert_uint_eq(i.nrecords, 1);
	ck_assert_uint_eq(i.npartial, 0);
	/* Attrs do not stick to it. */
	ck_assert_int_eq(shmirror_attr_set(m, "web", "k", &v), 0);
	ck_assert_int_eq(get(&r, "web", "k", &g, NULL, 0), MV_OK);
	ck_assert(!g.has_attr);
	ck_assert_uint_eq(g.rflags, SHM_R_REMOTE | SHM_R_PARTIAL);
	/* A new state there, then a local row of the name. */
	ck_assert_int_eq(shmirror_remote_put(m, "web", "node-three", 78,
	    "stopping"), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 78);
	ck_assert_str_eq(g.state, "stopping");
	ck_assert_int_eq(shmirror_child_put(m, "web", 5, "running", 0), 0);
	ck_assert_int_eq(shmirror_attr_set(m, "web", "k", &v), 0);
	ck_assert_int_eq(get(&r, "web", "k", &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 5);
	ck_assert_uint_eq(g.rflags, 0);
	ck_assert(g.has_attr);
	ck_assert_int_eq(g.i, 7);
	/* Back to a remote row: the local attrs go with the local row. */
	ck_assert_int_eq(shmirror_remote_put(m, "web", "n1", 9, "running"),
	    0);
	ck_assert_int_eq(get(&r, "web", "k", &g, NULL, 0), MV_OK);
	ck_assert_uint_eq(g.rflags, SHM_R_REMOTE | SHM_R_PARTIAL);
	ck_assert(!g.has_attr);
	ck_assert_int_eq(shmirror_child_del(m, "web"), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_NOTFOUND);
	/* No node, or one longer than the layout's: nothing. */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(shmirror_remote_put(m, "a", big, 1, "running"), 0);
	ck_assert_int_eq(shmirror_remote_put(m, "b", "", 1, "running"), 0);
	ck_assert_int_eq(get(&r, "a", NULL, &g, NULL, 0), MV_NOTFOUND);
	ck_assert_int_eq(get(&r, "b", NULL, &g, NULL, 0), MV_NOTFOUND);
	shmirror_info(m, &i);
	ck_assert_uint_eq(i.nrecords, 0);
	free(b.p);
	rd_close(&r);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

/*
 * The registry publishes other nodes' cluster rows (those it has at
 * publication, and later ones), never this node's claims, and a local row
 * of a name wins over another node's row of it, which shows again when
 * the local row goes.
 */
START_TEST(test_shm_registry_remote)
{
	struct fix		 f;
	struct shmirror_opts	 o;
	struct registry		*reg;
	struct registry_row	 row = { .name = "web", .pid = 9,
	    .state = "running", .type = "worker", .restart = "permanent",
	    .exit_status = -1, .spec = "{}" };
	struct rd		 r;
	struct mget		 g;
	char			*cause = NULL;

	fix_init(&f, 0660);
	reg = registry_new(&cause);
	ck_assert_msg(reg != NULL, "registry_new: %s", cause);
	registry_cluster_self(reg, "n0");
	ck_assert_int_eq(registry_cluster_put(reg, "early", "n2", 40,
	    "running", 3, 3, true, "{}"), 0);
	memset(&o, 0, sizeof o);
	o.path = f.path;
	o.socket = f.sock;
	o.max_bytes = SHM_MIN_BYTES;
	ck_assert_msg(registry_publish(reg, &o, &cause) == 0,
	    "registry_publish: %s", cause);
	rd_open(&r, f.path);
	ck_assert_int_eq(get(&r, "early", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 40);
	ck_assert_uint_eq(g.rflags & SHM_R_REMOTE, SHM_R_REMOTE);
	ck_assert_int_eq(registry_cluster_put(reg, "web", "n1", 42,
	    "running", 5, 5, false, "{}"), 0);
	ck_assert_int_eq(registry_cluster_put(reg, "mine", "n0", 7,
	    "running", 6, 6, false, "{}"), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 42);
	ck_assert_int_eq(get(&r, "mine", NULL, &g, NULL, 0), MV_NOTFOUND);
	/* A local row of the name wins, whatever the cluster says later. */
	ck_assert_int_eq(registry_child_put(reg, &row), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 9);
	ck_assert_uint_eq(g.rflags, 0);
	ck_assert_int_eq(registry_cluster_put(reg, "web", "n1", 43,
	    "running", 5, 7, false, "{}"), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 9);
	/* The local row goes: node n1's shows again; then that goes. */
	ck_assert_int_eq(registry_child_del(reg, "web"), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_OK);
	ck_assert_int_eq(g.pid, 43);
	ck_assert_uint_eq(g.rflags & SHM_R_REMOTE, SHM_R_REMOTE);
	ck_assert_int_eq(registry_cluster_del(reg, "web"), 0);
	ck_assert_int_eq(get(&r, "web", NULL, &g, NULL, 0), MV_NOTFOUND);
	/* Failed over to this node: the remote record goes. */
	ck_assert_int_eq(registry_cluster_put(reg, "early", "n0", 0,
	    "starting", 8, 8, true, "{}"), 0);
	ck_assert_int_eq(get(&r, "early", NULL, &g, NULL, 0), MV_NOTFOUND);
	rd_close(&r);
	registry_free(reg);
	fix_done(&f);
}
END_TEST

/*
 * Remote rows are bounded by the cap like local ones: past it they
 * degrade the file (readers ask the socket), never grow it further.
 */
START_TEST(test_shm_remote_cap)
{
	struct fix		 f;
	struct shmirror		*m;
	struct shmirror_info	 i;
	char			 name[SHM_NAME_MAX + 1];
	int			 k, rc = 0;

	fix_init(&f, 0660);
	m = mk(&f, SHM_MIN_BYTES, false);
	memset(name, 'n', SHM_NAME_MAX);
	name[SHM_NAME_MAX] = '\0';
	for (k = 0; k < 1000 && rc == 0; k++) {
		snprintf(name, 16, "%06d", k);
		name[6] = 'n';
		rc = shmirror_remote_put(m, name, "n1", k + 1, "running");
	}
	ck_assert_int_eq(rc, -1);
	ck_assert(shmirror_degraded(m));
	shmirror_info(m, &i);
	ck_assert_uint_le(i.file_size, SHM_MIN_BYTES);
	ck_assert(i.full);
	shmirror_free(m);
	fix_done(&f);
}
END_TEST

Suite *
shmirror_suite(void)
{
	Suite	*s = suite_create("shmirror");
	TCase	*tc = tcase_create("shmirror");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_shm_rows);
	tcase_add_test(tc, test_shm_attrs);
	tcase_add_test(tc, test_shm_batch);
	tcase_add_test(tc, test_shm_modes);
	tcase_add_test(tc, test_shm_growth);
	tcase_add_test(tc, test_shm_full);
	tcase_add_test(tc, test_shm_buddy);
	tcase_add_test(tc, test_shm_stale_and_symlink);
	tcase_add_test(tc, test_shm_reader_broken);
	tcase_add_test(tc, test_shm_collide);
	tcase_add_test(tc, test_shm_libgtd);
	tcase_add_test(tc, test_shm_remote);
	tcase_add_test(tc, test_shm_registry_remote);
	tcase_add_test(tc, test_shm_remote_cap);
	suite_add_tcase(s, tc);
	return (s);
}
