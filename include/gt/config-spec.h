/* SPDX-License-Identifier: MIT */
/*
 * config-spec: JSON -> childspec and back (pure; config-spec.c; the only
 * place childspecs meet jansson).  Never logs: errors come back as NULL
 * with *field (the dotted path of the offending key, xasprintf'd) and
 * *cause (a message); the caller frees both.
 */
#ifndef GT_CONFIG_SPEC_H_
#define GT_CONFIG_SPEC_H_

#include <jansson.h>

#include "gt/spec.h"

/*
 * Defaults and templates (JSON objects, validated; either may be NULL):
 * an instance spec is resolved against them before it is parsed.
 */
struct config_tpl {
	json_t	*defaults;
	json_t	*templates;	/* name -> partial childspec */
};

/* Parse and validate a childspec object (unknown keys are errors). */
struct childspec	*config_spec_parse(const json_t *obj, char **field,
			    char **cause);
/*
 * Resolve obj against tpl (defaults, then its template; cmd = template
 * cmd, args = template args + instance args), then parse it.
 */
struct childspec	*config_spec_build(const struct config_tpl *,
			    const json_t *obj, char **field, char **cause);
void			 config_tpl_clear(struct config_tpl *);
/* Is the template named by spec (or NULL) different in a and b? */
int			 config_tpl_changed(const struct config_tpl *,
			    const struct config_tpl *, const char *name);
/* The normalised spec: every field, defaults filled in. New reference. */
json_t			*config_spec_json(const struct childspec *);
/* config_spec_json dumped compactly (xmalloc'd). */
char			*config_spec_text(const struct childspec *);
/*
 * The same for a child's spec, which has no name of its own (it may be
 * shared): name is the child's.
 */
json_t			*config_spec_json_as(const struct childspec *,
			    const char *name);
char			*config_spec_text_as(const struct childspec *,
			    const char *name);

#endif /* GT_CONFIG_SPEC_H_ */
