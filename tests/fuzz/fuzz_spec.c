/* SPDX-License-Identifier: MIT */
/*
 * fuzz_spec: libFuzzer target for childspec validation.  The input is
 * parsed as JSON (as proto_parse would: duplicates rejected) and given
 * to config_spec_parse().  A rejection must name the offending field
 * and say why; an accepted spec must survive the round trip: its
 * normalised JSON parses again to the same normalised text, and
 * spec_dup() yields the same text too.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gt/config.h"
#include "gt/log.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A rejection: a field path that exists in the input, and a reason. */
static void
fuzz_check_error(const json_t *j, char *field, char *cause)
{
	assert(field != NULL && cause != NULL && *cause != '\0');
	/* An empty path only for an empty key (or a non-object spec). */
	if (*field == '\0')
		assert(json_is_object(j) && json_object_get(j, "") != NULL);
	free(field);
	free(cause);
}

static void
fuzz_check_spec(struct childspec *s)
{
	struct childspec	*s2, *d;
	json_t			*j;
	char			*t1, *t2, *t3, *field = NULL, *cause = NULL;

	assert(s->name != NULL && *s->name != '\0');
	t1 = config_spec_text(s);
	j = config_spec_json(s);
	assert(json_is_object(j));
	s2 = config_spec_parse(j, &field, &cause);
	if (s2 == NULL) {
		fprintf(stderr, "normalised spec rejected: %s: %s\n%s\n",
		    field, cause, t1);
		abort();
	}
	t2 = config_spec_text(s2);
	if (strcmp(t1, t2) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", t1, t2);
		abort();
	}
	d = spec_dup(s);
	t3 = config_spec_text(d);
	if (strcmp(t1, t3) != 0) {
		fprintf(stderr, "spec_dup differs:\n%s\n%s\n", t1, t3);
		abort();
	}
	free(t1);
	free(t2);
	free(t3);
	spec_free(d);
	spec_free(s2);
	json_decref(j);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_LVL_WARN);
	xmalloc_install_json();
	json_object_seed(1);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct childspec	*s;
	json_error_t		 je;
	json_t			*j;
	char			*field = NULL, *cause = NULL;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &je);
	if (j == NULL)
		return (0);
	if ((s = config_spec_parse(j, &field, &cause)) == NULL)
		fuzz_check_error(j, field, cause);
	else {
		fuzz_check_spec(s);
		spec_free(s);
	}
	json_decref(j);
	return (0);
}
