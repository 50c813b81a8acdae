/* SPDX-License-Identifier: MIT */
/*
 * cglimits: a childspec's "limits" (protocol 9.2) as values: parse and
 * validate the JSON object, give it back normalised, say which cgroup
 * controllers it needs and what each cgroup v2 interface file must hold.
 * Pure: no I/O, never logs.  Writing the files is cgroup.c's job.
 */
#ifndef GT_CGLIMITS_H
#define GT_CGLIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_t;			/* jansson's json_t: no jansson.h here */

/* Controllers, as bits (cgroup.h uses the same ones). */
#define CGROUP_CPU	0x1u
#define CGROUP_MEMORY	0x2u
#define CGROUP_PIDS	0x4u
#define CGROUP_ALL	(CGROUP_CPU | CGROUP_MEMORY | CGROUP_PIDS)

/* A limit's value: bytes, a count, a percentage, a weight; or these. */
#define CGLIMIT_UNSET	INT64_C(-1)	/* not given: the kernel's default */
#define CGLIMIT_MAX	INT64_C(-2)	/* "max": explicitly unlimited */

/* Bounds (inclusive) of the values a spec may give. */
#define CGLIMIT_CPU_PCT_MAX	100000	/* percent of one CPU: 1000 CPUs */
#define CGLIMIT_WEIGHT_MAX	10000
#define CGLIMIT_CPU_PERIOD_US	100000	/* cpu.max's period */

struct cglimits {
	int64_t	memory_max;	/* bytes >= 0, CGLIMIT_MAX or _UNSET */
	int64_t	memory_high;	/* bytes >= 0, CGLIMIT_MAX or _UNSET */
	int64_t	pids_max;	/* >= 1, CGLIMIT_MAX or _UNSET */
	int64_t	cpu_max;	/* percent 1..CGLIMIT_CPU_PCT_MAX, MAX, UNSET */
	int64_t	cpu_weight;	/* 1..CGLIMIT_WEIGHT_MAX or _UNSET */
};

/* One interface file to write: "memory.max" <- "1048576". */
struct cglimit_file {
	const char	*file;		/* static */
	char		 value[32];
	unsigned	 ctrl;		/* the controller the file belongs to */
};
#define CGLIMITS_NFILES	5

/* Every limit CGLIMIT_UNSET. */
void	 cglimits_init(struct cglimits *);
/* Is any limit set (CGLIMIT_MAX counts: it is written)? */
bool	 cglimits_any(const struct cglimits *);

/*
 * Parse a spec's "limits" object into *l (initialised first).  Unknown
 * keys are refused before any value is looked at (the first unknown key
 * in the object's order), then each value is checked.  0, or -1 with
 * *field (e.g. "limits.pids_max", the key cut to 64 bytes) and *cause
 * (xmalloc'd, the caller frees both); *l is then unspecified.
 */
int	 cglimits_parse(const struct json_t *, struct cglimits *, char **field,
	    char **cause);

/*
 * The normalised object for get_childspec: the limits that are set,
 * "max" for CGLIMIT_MAX.  A new reference; {} when none is set.
 */
struct json_t *cglimits_json(const struct cglimits *);

/* The controllers the set limits need (CGROUP_* bits). */
unsigned cglimits_controllers(const struct cglimits *);

/* A controller's name ("memory") for one CGROUP_* bit; NULL otherwise. */
const char *cglimits_ctrl_name(unsigned ctrl);

/*
 * Can these limits be applied where only the controllers in avail are
 * delegated?  why(ctrl, arg) names the reason a controller is missing
 * (e.g. "the memory controller is not delegated to gtd's cgroup X").
 * 0, or -1 with *field ("limits.memory_max": the first set limit in
 * the order of struct cglimits whose controller is missing) and *cause
 * "limits.memory_max: <why>" (xmalloc'd).
 */
int	 cglimits_check(const struct cglimits *, unsigned avail,
	    const char *(*why)(unsigned ctrl, void *arg), void *arg,
	    char **field, char **cause);

/*
 * cpu.max for a percentage of one CPU: "quota period" in microseconds
 * with the period CGLIMIT_CPU_PERIOD_US ("50000 100000" for 50), or
 * "max 100000" for CGLIMIT_MAX.  0, or -1 (EINVAL: out of range, or
 * ENOSPC: buf too small).
 */
int	 cglimits_cpu_max(int64_t pct, char *buf, size_t size);

/*
 * The files to write for the set limits, in the order of struct
 * cglimits ("max" for CGLIMIT_MAX).  Returns how many of
 * out[CGLIMITS_NFILES] were filled.
 */
size_t	 cglimits_files(const struct cglimits *,
	    struct cglimit_file out[CGLIMITS_NFILES]);

#endif /* GT_CGLIMITS_H */
