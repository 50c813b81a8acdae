/* SPDX-License-Identifier: MIT */
/*
 * hook: the after_terminate payload (protocol §4) and the memfd that
 * carries it to the hook's stdin.  Pure but for the memfd; never logs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/child.h"
#include "gt/gtd.h"
#include "gt/hook.h"
#include "gt/proto.h"
#include "gt/registry.h"
#include "gt/xmalloc.h"

static void
hook_attr_add(const char *key, const struct value *v, void *arg)
{
	json_object_set_new(arg, key, proto_value_json(v));
}

char *
hook_payload(struct child *c)
{
	struct policy_reason	 r;
	json_t			*j, *attrs;
	char			*s;

	attrs = json_object();
	/* A mirror failure leaves attrs short; the hook still runs. */
	(void)registry_attr_foreach(c->gtd->reg, c->name, hook_attr_add,
	    attrs);
	child_reason(c, &r);
	j = json_pack("{s:s, s:i, s:o, s:i, s:o}", "name", c->name,
	    "pid", (int)c->last_pid, "reason", proto_exit_reason(&r),
	    "restart_count", c->restart_count, "attrs", attrs);
	s = j == NULL ? NULL : proto_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return (xstrdup("{}"));
	return (s);
}

int
hook_stdin(const char *text)
{
	size_t	len = strlen(text), off = 0;
	ssize_t	n;
	int	fd, saved;

	if ((fd = memfd_create("gtd-hook", MFD_CLOEXEC)) == -1)
		return (-1);
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += n;
	}
	if (write(fd, "\n", 1) != 1 || lseek(fd, 0, SEEK_SET) == -1)
		goto fail;
	return (fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}
