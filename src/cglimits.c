/* SPDX-License-Identifier: MIT */
/*
 * cglimits: a childspec's "limits" object (protocol 9.2) as values, and
 * the cgroup v2 interface files they become.  One table row per limit
 * keeps the parser, the normaliser, the controller check and the file
 * writer in step.  Pure: no I/O, never logs.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gt/cglimits.h"
#include "gt/xmalloc.h"

/* The longest key copied into a field path (a client sends the key). */
#define CGLIMITS_KEY_MAX	64

static const struct cglimits_key {
	const char	*name;
	size_t		 off;		/* of the int64_t in struct cglimits */
	unsigned	 ctrl;
	const char	*file;
	int64_t		 lo, hi;
	int		 has_max;	/* "max" is a value */
	const char	*what;		/* for the error message */
} cglimits_keys[CGLIMITS_NFILES] = {
	{ "memory_max", offsetof(struct cglimits, memory_max), CGROUP_MEMORY,
	    "memory.max", 0, INT64_MAX, 1, "a number of bytes" },
	{ "memory_high", offsetof(struct cglimits, memory_high),
	    CGROUP_MEMORY, "memory.high", 0, INT64_MAX, 1,
	    "a number of bytes" },
	/* The kernel refuses pids.max at PID_MAX_LIMIT + 1 and above. */
	{ "pids_max", offsetof(struct cglimits, pids_max), CGROUP_PIDS,
	    "pids.max", 1, 4194304, 1, "a number of processes" },
	{ "cpu_max", offsetof(struct cglimits, cpu_max), CGROUP_CPU,
	    "cpu.max", 1, CGLIMIT_CPU_PCT_MAX, 1,
	    "a percentage of one CPU (50 = half, 200 = two)" },
	{ "cpu_weight", offsetof(struct cglimits, cpu_weight), CGROUP_CPU,
	    "cpu.weight", 1, CGLIMIT_WEIGHT_MAX, 0, "a weight" }
};

static const char *cglimits_ctrl_names[] = { "cpu", "memory", "pids" };

static int64_t *
cglimits_at(struct cglimits *l, const struct cglimits_key *k)
{
	return ((int64_t *)(void *)((char *)l + k->off));
}

static int64_t
cglimits_get(const struct cglimits *l, const struct cglimits_key *k)
{
	return (*(const int64_t *)(const void *)((const char *)l + k->off));
}

static const struct cglimits_key *
cglimits_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CGLIMITS_NFILES; i++)
		if (strcmp(cglimits_keys[i].name, name) == 0)
			return (&cglimits_keys[i]);
	return (NULL);
}

void
cglimits_init(struct cglimits *l)
{
	l->memory_max = l->memory_high = l->pids_max = CGLIMIT_UNSET;
	l->cpu_max = l->cpu_weight = CGLIMIT_UNSET;
}

bool
cglimits_any(const struct cglimits *l)
{
	size_t	i;

	for (i = 0; i < CGLIMITS_NFILES; i++)
		if (cglimits_get(l, &cglimits_keys[i]) != CGLIMIT_UNSET)
			return (true);
	return (false);
}

/* "limits.KEY", the key cut at a UTF-8 boundary. */
static char *
cglimits_field(const char *key)
{
	size_t	n = strlen(key);
	char	*s;

	if (n > CGLIMITS_KEY_MAX) {
		n = CGLIMITS_KEY_MAX;
		while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
			n--;		/* key[n] continues a sequence */
	}
	xasprintf(&s, "limits.%.*s", (int)n, key);
	return (s);
}

/* One value: an integer in [lo, hi], or "max" where allowed. */
static int
cglimits_value(const struct cglimits_key *k, const json_t *v, int64_t *out)
{
	json_int_t	n;

	if (k->has_max && json_is_string(v) &&
	    strcmp(json_string_value(v), "max") == 0) {
		*out = CGLIMIT_MAX;
		return (0);
	}
	if (!json_is_integer(v))
		return (-1);
	n = json_integer_value(v);
	if (n < k->lo || n > k->hi)
		return (-1);
	*out = n;
	return (0);
}

int
cglimits_parse(const json_t *j, struct cglimits *l, char **field,
    char **cause)
{
	const struct cglimits_key	*k;
	const char			*key;
	json_t				*v;

	cglimits_init(l);
	if (!json_is_object(j)) {
		*field = xstrdup("limits");
		*cause = xstrdup("limits must be an object such as "
		    "{\"memory_max\": 268435456, \"cpu_max\": 50}");
		return (-1);
	}
	/* Unknown keys first: a typo is named before any value. */
	json_object_foreach((json_t *)j, key, v) {
		if (cglimits_find(key) != NULL)
			continue;
		*field = cglimits_field(key);
		xasprintf(cause, "%s: unknown limit (known: memory_max, "
		    "memory_high, pids_max, cpu_max, cpu_weight)", *field);
		return (-1);
	}
	json_object_foreach((json_t *)j, key, v) {
		k = cglimits_find(key);
		if (cglimits_value(k, v, cglimits_at(l, k)) == 0)
			continue;
		*field = cglimits_field(key);
		xasprintf(cause, "%s must be %s, an integer from %" PRId64
		    " to %" PRId64 "%s", *field, k->what, k->lo, k->hi,
		    k->has_max ? ", or \"max\"" : "");
		return (-1);
	}
	return (0);
}

json_t *
cglimits_json(const struct cglimits *l)
{
	json_t	*o = json_object();
	int64_t	 v;
	size_t	 i;

	for (i = 0; i < CGLIMITS_NFILES; i++) {
		v = cglimits_get(l, &cglimits_keys[i]);
		if (v == CGLIMIT_UNSET)
			continue;
		json_object_set_new(o, cglimits_keys[i].name, v == CGLIMIT_MAX ?
		    json_string("max") : json_integer(v));
	}
	return (o);
}

unsigned
cglimits_controllers(const struct cglimits *l)
{
	unsigned	m = 0;
	size_t		i;

	for (i = 0; i < CGLIMITS_NFILES; i++)
		if (cglimits_get(l, &cglimits_keys[i]) != CGLIMIT_UNSET)
			m |= cglimits_keys[i].ctrl;
	return (m);
}

const char *
cglimits_ctrl_name(unsigned ctrl)
{
	switch (ctrl) {
	case CGROUP_CPU:
		return (cglimits_ctrl_names[0]);
	case CGROUP_MEMORY:
		return (cglimits_ctrl_names[1]);
	case CGROUP_PIDS:
		return (cglimits_ctrl_names[2]);
	}
	return (NULL);
}

int
cglimits_check(const struct cglimits *l, unsigned avail,
    const char *(*why)(unsigned, void *), void *arg, char **field,
    char **cause)
{
	const struct cglimits_key	*k;
	const char			*w;
	size_t				 i;

	for (i = 0; i < CGLIMITS_NFILES; i++) {
		k = &cglimits_keys[i];
		if (cglimits_get(l, k) == CGLIMIT_UNSET ||
		    (avail & k->ctrl) != 0)
			continue;
		w = why != NULL ? why(k->ctrl, arg) : NULL;
		*field = cglimits_field(k->name);
		if (w != NULL)
			xasprintf(cause, "%s: %s", *field, w);
		else
			xasprintf(cause, "%s: the %s controller is not "
			    "available", *field, cglimits_ctrl_name(k->ctrl));
		return (-1);
	}
	return (0);
}

int
cglimits_cpu_max(int64_t pct, char *buf, size_t size)
{
	int	n;

	if (pct == CGLIMIT_MAX)
		n = snprintf(buf, size, "max %d", CGLIMIT_CPU_PERIOD_US);
	else if (pct >= 1 && pct <= CGLIMIT_CPU_PCT_MAX)
		/* pct/100 CPUs: quota = pct * period / 100 microseconds. */
		n = snprintf(buf, size, "%" PRId64 " %d",
		    pct * (CGLIMIT_CPU_PERIOD_US / 100), CGLIMIT_CPU_PERIOD_US);
	else {
		errno = EINVAL;
		return (-1);
	}
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return (-1);
	}
	return (0);
}

size_t
cglimits_files(const struct cglimits *l,
    struct cglimit_file out[CGLIMITS_NFILES])
{
	const struct cglimits_key	*k;
	struct cglimit_file		*f;
	int64_t				 v;
	size_t				 i, n = 0;

	for (i = 0; i < CGLIMITS_NFILES; i++) {
		k = &cglimits_keys[i];
		if ((v = cglimits_get(l, k)) == CGLIMIT_UNSET)
			continue;
		f = &out[n++];
		f->file = k->file;
		f->ctrl = k->ctrl;
		if (k->off == offsetof(struct cglimits, cpu_max)) {
			/* Out of range (not parsed): "" the kernel refuses. */
			if (cglimits_cpu_max(v, f->value, sizeof f->value) == -1)
				f->value[0] = '\0';
		} else if (v == CGLIMIT_MAX)
			snprintf(f->value, sizeof f->value, "max");
		else
			snprintf(f->value, sizeof f->value, "%" PRId64, v);
	}
	return (n);
}
