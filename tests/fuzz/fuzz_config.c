/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config: libFuzzer target for config file parsing.  The input is
 * the file: it is written to a memfd and loaded with config_load()
 * through /proc/self/fd/N, the path gtd -c would be given.  A rejection
 * must come with a field (possibly "" for the file as a whole) and a
 * reason; an accepted config must have its limits in range, unique
 * child names, and children that survive the spec round trip.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/config.h"
#include "gt/log.h"
#include "gt/spec.h"
#include "gt/xmalloc.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int	fuzz_fd = -1;
static char	fuzz_path[64];

static void
fuzz_check_config(const struct config *c)
{
	struct childspec	*s;
	json_t			*j;
	char			*t1, *t2, *field = NULL, *cause = NULL;
	size_t			 i, k;

	assert(c->lim.max_connections >= 1);
	assert(c->lim.max_children >= 1);
	assert(c->lim.max_attrs >= 1);
	assert(c->lim.max_request_bytes >= 64);
	assert(c->snapshot_path == NULL || (*c->snapshot_path == '/' &&
	    c->snapshot_interval_ms >= CONFIG_SNAPSHOT_MIN_MS));
	for (i = 0; i < c->nchildren; i++) {
		assert(c->children[i] != NULL);
		for (k = 0; k < i; k++)
			assert(strcmp(c->children[k]->name,
			    c->children[i]->name) != 0);
		t1 = config_spec_text(c->children[i]);
		j = config_spec_json(c->children[i]);
		if ((s = config_spec_parse(j, &field, &cause)) == NULL) {
			fprintf(stderr, "normalised spec rejected: %s: %s\n",
			    field, cause);
			abort();
		}
		t2 = config_spec_text(s);
		assert(strcmp(t1, t2) == 0);
		free(t1);
		free(t2);
		spec_free(s);
		json_decref(j);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_LVL_WARN);
	xmalloc_install_json();
	json_object_seed(1);
	/* A memfd is 0777: gtd refuses a config others may write. */
	if ((fuzz_fd = memfd_create("gtd-fuzz-config", MFD_CLOEXEC)) == -1 ||
	    fchmod(fuzz_fd, 0600) == -1)
		abort();
	snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c;
	char		*field = NULL, *cause = NULL;

	if (ftruncate(fuzz_fd, 0) == -1 ||
	    pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		abort();
	if ((c = config_load(fuzz_path, &field, &cause)) == NULL) {
		assert(field != NULL && cause != NULL && *cause != '\0');
		free(field);
		free(cause);
		return (0);
	}
	fuzz_check_config(c);
	config_free(c);
	return (0);
}
