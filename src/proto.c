/* SPDX-License-Identifier: MIT */
/*
 * proto: parsing and dumping of protocol lines and values with jansson.
 * Pure functions of their input; never logs.
 */
#include "config.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "gt/proto.h"
#include "gt/utf8.h"
#include "gt/xmalloc.h"

#define PROTO_DEPTH_MAX	64	/* deeper nesting is bad_json, not a crash */

static int	proto_too_deep(const char *, size_t);
static const char *proto_ws(const char *, const char *);
static const char *proto_str(const char *, const char *, char **,
		    const char **, size_t *);
static const char *proto_int(const char *, const char *, int64_t *);

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

static const char *
proto_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	return (p);
}

/*
 * A string of printable ASCII without escapes, copied NUL-terminated to
 * *sp.  Anything else (escapes, UTF-8, control bytes) is left to jansson.
 */
static const char *
proto_str(const char *p, const char *end, char **sp, const char **out,
    size_t *lenp)
{
	const char	*q;

	if (p == end || *p != '"')
		return (NULL);
	for (q = ++p; q < end && *q != '"'; q++)
		if (*q == '\\' || (unsigned char)*q < 0x20 ||
		    (unsigned char)*q >= 0x7f)
			return (NULL);
	if (q == end)
		return (NULL);
	memcpy(*sp, p, q - p);
	(*sp)[q - p] = '\0';
	*out = *sp;
	*lenp = q - p;
	*sp += q - p + 1;
	return (q + 1);
}

/* An integer without fraction or exponent that fits int64_t. */
static const char *
proto_int(const char *p, const char *end, int64_t *out)
{
	uint64_t	 v = 0, lim = INT64_MAX;
	int		 neg = 0;
	const char	*d;

	if (p < end && *p == '-') {
		neg = 1;
		lim = (uint64_t)INT64_MAX + 1;
		p++;
	}
	if (p == end || *p < '0' || *p > '9' || (*p == '0' && p + 1 < end &&
	    p[1] >= '0' && p[1] <= '9'))
		return (NULL);
	for (d = p; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (lim - (*p - '0')) / 10)
			return (NULL);
		v = v * 10 + (*p - '0');
	}
	if (p - d > 19 || (p < end && (*p == '.' || *p == 'e' || *p == 'E')))
		return (NULL);
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return (p);
}

int
proto_scan(const char *line, size_t len, struct proto_flat *fl,
    char *scratch)
{
	const char		*p = line, *end = line + len, *k, *v0;
	struct proto_field	*f;
	size_t			 klen, i;
	char			*sp = scratch;

	fl->op = fl->id = NULL;
	fl->n = 0;
	p = proto_ws(p, end);
	if (p == end || *p++ != '{')
		return (-1);
	p = proto_ws(p, end);
	if (p < end && *p == '}') {
		p++;
		goto done;
	}
	for (;;) {
		if ((p = proto_str(p, end, &sp, &k, &klen)) == NULL)
			return (-1);
		p = proto_ws(p, end);
		if (p == end || *p++ != ':')
			return (-1);
		p = proto_ws(p, end);
		if (p == end || fl->n == PROTO_FLAT_MAX)
			return (-1);
		/* Duplicates: jansson says so. */
		for (i = 0; i < fl->n; i++)
			if (strcmp(fl->f[i].key, k) == 0)
				return (-1);
		if ((fl->op != NULL && strcmp(k, "op") == 0) ||
		    (fl->id != NULL && strcmp(k, "id") == 0))
			return (-1);
		f = &fl->f[fl->n];
		f->key = k;
		v0 = p;
		if (*p == '"') {
			f->type = PROTO_STR;
			p = proto_str(p, end, &sp, &f->s, &f->slen);
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			f->type = PROTO_INT;
			p = proto_int(p, end, &f->i);
		} else if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
			f->type = PROTO_TRUE;
			p += 4;
		} else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
			f->type = PROTO_FALSE;
			p += 5;
		} else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
			f->type = PROTO_NULL;
			p += 4;
		} else
			return (-1);		/* objects, arrays, junk */
		if (p == NULL)
			return (-1);
		if (klen == 2 && strcmp(k, "id") == 0) {
			fl->id = v0;
			fl->idlen = p - v0;
		} else if (klen == 2 && strcmp(k, "op") == 0) {
			if (f->type != PROTO_STR)
				return (-1);
			fl->op = f->s;
		} else
			fl->n++;
		p = proto_ws(p, end);
		if (p == end)
			return (-1);
		if (*p == '}') {
			p++;
			break;
		}
		if (*p++ != ',')
			return (-1);
		p = proto_ws(p, end);
	}
done:
	return (proto_ws(p, end) == end ? 0 : -1);
}

size_t
proto_utf8_len(const char *s, size_t avail)
{
	return (utf8_len(s, avail));
}

char *
proto_dump(const json_t *j, size_t *lenp)
{
	char	*s;

	s = proto_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s != NULL && lenp != NULL)
		*lenp = strlen(s);
	return (s);
}

size_t
proto_real_format(double d, char *buf, size_t size)
{
	size_t	n;
	int	prec;

	assert(size >= PROTO_REAL_LEN);
	/* %.15g is exact for every decimal of up to 15 digits. */
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(buf, size, "%.17g", d);
	n = strlen(buf);
	/* Still a real when parsed again: "1" would be an integer. */
	if (strpbrk(buf, ".eEn") == NULL && n + 2 < size) {
		memcpy(buf + n, ".0", 3);
		n += 2;
	}
	return (n);
}

/* Does j hold a real anywhere?  (Most replies do not: no rewrite.) */
static int
proto_has_real(const json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	switch (json_typeof(j)) {
	case JSON_REAL:
		return (1);
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, k, v)
			if (proto_has_real(v))
				return (1);
		return (0);
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			if (proto_has_real(v))
				return (1);
		return (0);
	default:
		return (0);
	}
}

/*
 * Copy the number token at in[0..n) (jansson's %.17g of a real when it
 * has '.', 'e' or 'E') into out as proto_real_format writes it.
 */
static size_t
proto_real_token(const char *in, size_t n, char *out)
{
	char	tok[PROTO_REAL_LEN];

	if (n >= PROTO_REAL_LEN || (memchr(in, '.', n) == NULL &&
	    memchr(in, 'e', n) == NULL && memchr(in, 'E', n) == NULL)) {
		memcpy(out, in, n);	/* an integer, or not ours: as is */
		return (n);
	}
	memcpy(tok, in, n);
	tok[n] = '\0';
	return (proto_real_format(strtod(tok, NULL), out, PROTO_REAL_LEN));
}

/*
 * in (valid JSON text of len bytes, as jansson dumps it) with every real
 * rewritten by proto_real_format.  xmalloc'd and NUL-terminated.
 */
static char *
proto_reals_rewrite(const char *in, size_t len, size_t *outlen)
{
	char	*out;
	size_t	 i = 0, o = 0, t, size;

	size = len + PROTO_REAL_LEN + 1;
	out = xmalloc(size);
	while (i < len) {
		/* A token may grow ("1.23456789012345e+15"): keep room. */
		if (size - o < len - i + PROTO_REAL_LEN + 1) {
			size = size * 2 + PROTO_REAL_LEN;
			out = xreallocarray(out, 1, size);
		}
		if (in[i] == '"') {
			/* A string, escapes included, verbatim. */
			t = i + 1;
			while (t < len && in[t] != '"')
				t += in[t] == '\\' ? 2 : 1;
			t = t < len ? t + 1 : len;
			memcpy(out + o, in + i, t - i);
			o += t - i;
			i = t;
		} else if (in[i] == '-' || (in[i] >= '0' && in[i] <= '9')) {
			t = i + strspn(in + i, "0123456789+-.eE");
			o += proto_real_token(in + i, t - i, out + o);
			i = t;
		} else
			out[o++] = in[i++];
	}
	out[o] = '\0';
	*outlen = o;
	return (out);
}

char *
proto_dumps(const json_t *j, size_t flags)
{
	char	*s, *r;
	size_t	 n;

	if ((s = json_dumps(j, flags)) == NULL || !proto_has_real(j))
		return (s);
	r = proto_reals_rewrite(s, strlen(s), &n);
	free(s);
	return (r);
}

size_t
proto_dumpb(const json_t *j, char *buf, size_t size, size_t flags)
{
	char	*s;
	size_t	 n;

	if (!proto_has_real(j))
		return (json_dumpb(j, buf, size, flags));
	if ((s = proto_dumps(j, flags)) == NULL)
		return (0);
	if ((n = strlen(s)) <= size)
		memcpy(buf, s, n);
	free(s);
	return (n);
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
		v->s = proto_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
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

json_t *
proto_exit_reason(const struct policy_reason *r)
{
	json_t	*j;

	j = r->has_status ? proto_exit_json(r->status, r->requested) :
	    json_object();
	if (!r->has_status && r->requested)
		json_object_set_new(j, "requested", json_true());
	if (r->requested && r->stop_signal > 0)
		json_object_set_new(j, "stop_signal",
		    json_string(spec_signal_name(r->stop_signal)));
	if (r->requested && r->escalated) {
		json_object_set_new(j, "escalated", json_true());
		json_object_set_new(j, "timeout_ms",
		    json_integer(r->timeout_ms));
	}
	if (r->unhealthy)
		json_object_set_new(j, "unhealthy", json_true());
	if (r->oom)
		json_object_set_new(j, "oom", json_true());
	if (r->spawn_errno != NULL) {
		json_object_set_new(j, "errno", json_string(r->spawn_errno));
		json_object_set_new(j, "step", json_string(r->spawn_step));
		if (r->spawn_path != NULL)
			json_object_set_new(j, "path",
			    json_string(r->spawn_path));
	}
	return (j);
}
