/* SPDX-License-Identifier: MIT */
/*
 * fuzz_mirror: libFuzzer target for libgtd's readers of untrusted bytes:
 * the shared-memory mirror reader (src/lib/mirror.c) and the JSON scanner of
 * its socket fallbacks (src/lib/json.c).  The first byte picks how the rest
 * becomes a mirror file: even, the bytes are the file; odd, they are
 * patches (offset, length, bytes) onto a valid file that gtd's own writer
 * (src/shmirror.c) made at start, so near-valid structures are explored
 * too.  Every reader entry point runs on the result; whatever it holds,
 * none may fault, loop for ever or read outside the buffer (ASan).  The
 * same bytes then go through the JSON scanner.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/shmirror.h"
#include "gt/shmlayout.h"
#include "gt/spec.h"
#include "src/lib/json.h"
#include "src/lib/mirror.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t	*fuzz_image;		/* a valid mirror file */
static size_t	 fuzz_isize;

/* A small registry written by the real writer, read back as bytes. */
static void
fuzz_make_image(void)
{
	struct shmirror_opts	 o;
	struct shmirror		*m;
	struct sockaddr_un	 sun;
	struct value		 v;
	char			 dir[] = "/tmp/gtd-fuzz-XXXXXX", sock[64];
	char			 path[80], name[16], *cause = NULL;
	int			 fd, i;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sock, sizeof sock, "%s/sock", dir);
	snprintf(path, sizeof path, "%s.mirror", sock);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
		abort();
	close(fd);
	memset(&o, 0, sizeof o);
	o.path = path;
	o.socket = sock;
	o.max_bytes = SHM_MIN_BYTES;
	if ((m = shmirror_new(&o, &cause)) == NULL ||
	    shmirror_rebuild_begin(m) == -1)
		abort();
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof name, "n%d", i);
		shmirror_child_put(m, name, 100 + i, "running", i);
		v.type = VALUE_INT;
		v.i = i;
		shmirror_attr_set(m, name, "k", &v);
		v.type = VALUE_TEXT;
		v.s = name;
		shmirror_attr_set(m, name, "t", &v);
		v.type = VALUE_JSON;
		v.s = (char *)(uintptr_t)"[1,{\"a\":null}]";
		shmirror_attr_set(m, name, "j", &v);
	}
	if (shmirror_rebuild_end(m) == -1 ||
	    (fd = open(path, O_RDONLY)) == -1)
		abort();
	fuzz_isize = SHM_MIN_BYTES;
	if (posix_memalign((void **)&fuzz_image, 64, fuzz_isize) != 0 ||
	    read(fd, fuzz_image, fuzz_isize) != (ssize_t)fuzz_isize)
		abort();
	close(fd);
	shmirror_free(m);
	unlink(sock);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_make_image();
	return (0);
}

static void
fuzz_read_all(const uint8_t *p, size_t size)
{
	static const char *const names[] = { "n0", "n7", "n11", "zz", NULL };
	struct mview	v;
	struct mget	g;
	struct mbuf	b = { NULL, 0, 0 };
	struct mattr	a;
	char		buf[32];
	uint32_t	i, nb;
	int		k;

	if (mview_init(&v, p, size) != MV_OK)
		return;
	for (k = 0; names[k] != NULL; k++) {
		memset(&g, 0, sizeof g);
		g.name = names[k];
		g.len = strlen(names[k]);
		g.key = k % 2 ? "t" : "k";
		g.klen = 1;
		g.buf = buf;
		g.bufsize = sizeof buf;
		(void)mview_get(&v, &g);
		if (mview_copy(&v, names[k], g.len, &b) == MV_OK &&
		    mrec_fixed(&b, &g) == 0)
			for (i = 0; i < g.nattrs; i++)
				if (mrec_attr(&b, i, &a) == 0 &&
				    (a.type == SHM_T_TEXT ||
				    a.type == SHM_T_JSON) &&
				    strlen(a.s) > a.vlen)
					abort();	/* not terminated */
	}
	nb = mview_nbuckets(&v);
	for (i = 0; i < nb && i < 4096; i++) {
		b.len = 0;
		(void)mview_list(&v, i, &b);
	}
	free(b.p);
}

/* The JSON scanner on the same bytes: spans must stay inside. */
static void
fuzz_json(const uint8_t *data, size_t len)
{
	struct lj	 o, k, v;
	const char	*pos = NULL, *end = (const char *)data + len;
	char		 buf[64];
	size_t		 n;
	int64_t		 i;
	double		 d;
	int		 count = 0;

	if (lj_parse((const char *)data, len, &o) == -1)
		return;
	if (o.p < (const char *)data || o.p + o.len > end)
		abort();
	if (o.type == LJ_OBJECT)
		(void)lj_get(&o, "ok", &v);
	if (o.type != LJ_OBJECT && o.type != LJ_ARRAY)
		return;
	while (count++ < 1000 && lj_next(&o, &pos, &k, &v) == 1) {
		if (v.p < o.p || v.p + v.len > o.p + o.len)
			abort();
		if (v.type == LJ_STRING &&
		    lj_string(&v, buf, sizeof buf, &n) == 0 &&
		    strlen(buf) > n)
			abort();
		(void)lj_int(&v, &i);
		(void)lj_double(&v, &d);
		(void)lj_streq(&v, "ok");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t	*p;
	size_t	 size, at, off, n;

	if (len == 0)
		return (0);
	if ((data[0] & 1) == 0) {
		/* The bytes are the file, in an aligned buffer of their own. */
		size = len - 1;
		if (posix_memalign((void **)&p, 64, size + 1) != 0)
			return (0);
		memcpy(p, data + 1, size);
	} else {
		/* Patches onto the valid file: u16 offset/64, u8 length. */
		size = fuzz_isize;
		if (posix_memalign((void **)&p, 64, size) != 0)
			return (0);
		memcpy(p, fuzz_image, size);
		for (at = 1; at + 3 <= len; at += 3 + n) {
			off = ((size_t)data[at] | (size_t)data[at + 1] << 8) *
			    (size / 65536 + 1) % size;
			n = data[at + 2] % 17;
			if (n > len - at - 3)
				n = len - at - 3;
			if (n > size - off)
				n = size - off;
			memcpy(p + off, data + at + 3, n);
		}
	}
	fuzz_read_all(p, size);
	free(p);
	fuzz_json(data + 1, len - 1);
	return (0);
}
