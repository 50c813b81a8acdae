/* SPDX-License-Identifier: MIT */
/*
 * proto: parsing and dumping of protocol lines and values with jansson.
 * Pure functions of their input; never logs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "gt/proto.h"
#include "gt/xmalloc.h"

#define PROTO_DEPTH_MAX	64	/* deeper nesting is bad_json, not a crash */

static int	proto_too_deep(const char *, size_t);

/* jansson recurses per level; refuse absurd nesting before parsing. */
static int
proto_too_deep(const char *s, size_t len)
{
	size_t	i;
	int	depth = 0, instr = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
			continue;
		}
		if (s[i] == '"')
			instr = 1;
		else if (s[i] == '[' || s[i] == '{') {
			if (++depth > PROTO_DEPTH_MAX)
				return (1);
		} else if (s[i] == ']' || s[i] == '}')
			depth--;
	}
	return (0);
}

json_t *
proto_parse(const char *line, size_t len, char **cause)
{
	json_error_t	 je;
	json_t		*j;

	if (proto_too_deep(line, len)) {
		xasprintf(cause, "nested deeper than %d levels",
		    PROTO_DEPTH_MAX);
		return (NULL);
	}
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL) {
		xasprintf(cause, "%s at column %d", je.text, je.column);
		return (NULL);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		xasprintf(cause, "a request must be a JSON object");
		return (NULL);
	}
	return (j);
}

char *
proto_dump(const json_t *j, size_t *lenp)
{
	char	*s;

	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL && lenp != NULL)
		*lenp = strlen(s);
	return (s);
}

json_t *
proto_value_json(const struct value *v)
{
	json_t	*j;

	switch (v->type) {
	case VALUE_INT:
		return (json_integer(v->i));
	case VALUE_REAL:
		return (json_real(v->r));
	case VALUE_TEXT:
		return (json_string(v->s));
	case VALUE_JSON:
		j = json_loads(v->s, JSON_DECODE_ANY, NULL);
		return (j != NULL ? j : json_null());
	}
	return (json_null());
}

void
proto_value_from_json(const json_t *j, struct value *v)
{
	memset(v, 0, sizeof *v);
	switch (json_typeof(j)) {
	case JSON_INTEGER:
		v->type = VALUE_INT;
		v->i = json_integer_value(j);
		break;
	case JSON_REAL:
		v->type = VALUE_REAL;
		v->r = json_real_value(j);
		break;
	case JSON_STRING:
		v->type = VALUE_TEXT;
		v->s = xstrndup(json_string_value(j), json_string_length(j));
		break;
	default:
		v->type = VALUE_JSON;
		v->s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		if (v->s == NULL)
			v->s = xstrdup("null");
		break;
	}
}

json_t *
proto_exit_json(int status, int requested)
{
	json_t		*j = json_object();
	const char	*name;
	char		 buf[16];

	if (WIFEXITED(status))
		json_object_set_new(j, "exit_status",
		    json_integer(WEXITSTATUS(status)));
	else {
		name = NULL;
		if (WIFSIGNALED(status))
			name = spec_signal_name(WTERMSIG(status));
		if (name == NULL) {
			snprintf(buf, sizeof buf, "SIG%d", WTERMSIG(status));
			name = buf;
		}
		json_object_set_new(j, "signal", json_string(name));
	}
	if (requested)
		json_object_set_new(j, "requested", json_true());
	return (j);
}
