/* SPDX-License-Identifier: MIT */
/*
 * config: JSON -> childspec and config file -> struct config (pure
 * parsing; the only place childspecs meet jansson).  Never logs: errors
 * come back as NULL with *field (the dotted path of the offending key,
 * xasprintf'd) and *cause (a message); the caller frees both.
 */
#ifndef GT_CONFIG_H_
#define GT_CONFIG_H_

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/spec.h"

struct config {
	char			*zone;		/* NULL: not set */
	char			*socket;
	struct childspec	**children;
	size_t			 nchildren;
	struct gtd_limits	 lim;
	enum log_level		 log_level;
	char			*snapshot_path;	/* NULL: no snapshot */
	int64_t			 snapshot_interval_ms;
};

#define CONFIG_SNAPSHOT_MS	1000		/* default interval_ms */
#define CONFIG_SNAPSHOT_MIN_MS	100
#define CONFIG_SNAPSHOT_MAX_MS	86400000	/* a day */

/* Parse and validate a childspec object (unknown keys are errors). */
struct childspec	*config_spec_parse(const json_t *obj, char **field,
			    char **cause);
/* The normalised spec: every field, defaults filled in. New reference. */
json_t			*config_spec_json(const struct childspec *);
/* config_spec_json dumped compactly (xmalloc'd). */
char			*config_spec_text(const struct childspec *);

/* Read and validate a config file. */
struct config		*config_load(const char *path, char **field,
			    char **cause);
void			 config_free(struct config *);	/* NULL is fine */
void			 config_default_limits(struct gtd_limits *);

#endif /* GT_CONFIG_H_ */
