/* SPDX-License-Identifier: MIT */
/*
 * envfile: env_files, systemd's EnvironmentFile= syntax (see envfile.h).
 * The parser is a state machine over bytes with systemd's states, so
 * that every corner (quotes joining, escapes kept or dropped, trailing
 * whitespace, comments) comes out as systemd's does; assignments are
 * then validated and bounded here.  The read opens the file as the
 * child's user (fscred) and never blocks on it.  Never logs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "gt/envfile.h"
#include "gt/fscred.h"
#include "gt/proto.h"
#include "gt/strmap.h"
#include "gt/xmalloc.h"

#define ENVFILE_WS	" \t\n\r"
#define ENVFILE_NL	"\n\r"
#define ENVFILE_COMMENT	"#;"
#define ENVFILE_DQ_ESC	"\"\\`$"	/* unescaped inside "..." */

/* systemd's states (src/basic/env-file.c), one per byte. */
enum envfile_state {
	EF_PRE_KEY,
	EF_KEY,
	EF_PRE_VALUE,
	EF_VALUE,
	EF_VALUE_ESC,
	EF_SQUOTE,
	EF_DQUOTE,
	EF_DQUOTE_ESC,
	EF_COMMENT,
	EF_COMMENT_ESC
};

struct envfile_buf {
	char	*p;
	size_t	 n;
	size_t	 cap;
};

struct envfile_parser {
	const char		*path;
	struct envfile		*out;
	size_t			 cap;		/* of out->vars */
	struct strmap		 names;		/* name -> index in vars */
	char			**keys;		/* the map's keys, owned */
	enum envfile_state	 st;
	struct envfile_buf	 key;
	struct envfile_buf	 val;
	size_t			 key_ws;	/* trailing whitespace at */
	size_t			 val_ws;
	size_t			 line;		/* of the byte at hand */
	size_t			 at;		/* of the assignment */
	char			*cause;
	int			 err;
};

static int	envfile_fail(struct envfile_parser *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
envfile_fail(struct envfile_parser *p, int err, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	xasprintf(&p->cause, "%s:%zu: %s", p->path, p->at,
	    msg != NULL ? msg : "invalid");
	free(msg);
	p->err = err;
	return (-1);
}

static void
envfile_put(struct envfile_buf *b, char c)
{
	if (b->n + 1 >= b->cap) {
		b->cap = b->cap == 0 ? 64 : b->cap * 2;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	b->p[b->n++] = c;
	b->p[b->n] = '\0';
}

/* The code point of a valid sequence of n bytes. */
static uint32_t
envfile_cp(const unsigned char *u, size_t n)
{
	static const unsigned char	lead[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	uint32_t			cp = u[0] & lead[n];
	size_t				i;

	for (i = 1; i < n; i++)
		cp = cp << 6 | (u[i] & 0x3f);
	return (cp);
}

/* NUL-terminate the buffer at its length (allocating an empty one). */
static void
envfile_term(struct envfile_buf *b)
{
	envfile_put(b, '\0');
	b->n--;
}

/*
 * Valid UTF-8 as systemd's utf8_is_valid: no overlong forms,
 * surrogates or code points past U+10FFFF (proto_utf8_len), and no
 * noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF).
 */
static bool
envfile_utf8(const char *s, size_t len)
{
	size_t		i = 0, n;
	uint32_t	cp;

	while (i < len) {
		if ((n = proto_utf8_len(s + i, len - i)) == 0)
			return (false);
		cp = envfile_cp((const unsigned char *)s + i, n);
		if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe)
			return (false);
		i += n;
	}
	return (true);
}

/* A shell variable name, as systemd's env_name_is_valid. */
static bool
envfile_name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return (false);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_'))
			return (false);
	return (true);
}

/* A warning: before, the name (shown safely), after. */
static void
envfile_warn(struct envfile_parser *p, const char *before, const char *name,
    const char *after)
{
	struct envfile	*o = p->out;
	char		 shown[68];
	size_t		 i, n = strlen(name);

	/* At most 64 bytes of it, cut at a character, unprintables as ?. */
	if (n > 64)
		for (n = 64; n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80;)
			n--;
	for (i = 0; i < n; i++)
		shown[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ?
		    '?' : name[i];
	shown[n] = '\0';
	if (o->nwarnings++ >= ENVFILE_MAX_WARNINGS)
		return;
	o->warnings = xreallocarray(o->warnings, o->nwarnings + 1,
	    sizeof *o->warnings);
	xasprintf(&o->warnings[o->nwarnings - 1], "%s:%zu: %s\"%s%s\"%s",
	    p->path, p->at, before, shown, n < strlen(name) ? "..." : "",
	    after);
	o->warnings[o->nwarnings] = NULL;
}

/* One assignment complete: check it, then add or replace it. */
static int
envfile_push(struct envfile_parser *p)
{
	struct envfile	*o = p->out;
	size_t		*ip;
	char		*kv;

	envfile_term(&p->key);
	envfile_term(&p->val);
	if (p->key_ws != SIZE_MAX)
		p->key.p[p->key.n = p->key_ws] = '\0';
	if (!envfile_utf8(p->key.p, p->key.n))
		return (envfile_fail(p, EINVAL, "invalid UTF-8 in a name"));
	if (!envfile_utf8(p->val.p, p->val.n))
		return (envfile_fail(p, EINVAL, "invalid UTF-8 in the value "
		    "of %.64s", p->key.p));
	if (p->key.n + 1 + p->val.n > ENVFILE_MAX_ENTRY)
		return (envfile_fail(p, E2BIG, "%.64s: longer than %d bytes",
		    p->key.p, ENVFILE_MAX_ENTRY));
	if (!envfile_name_ok(p->key.p, p->key.n)) {
		envfile_warn(p, "ignoring an assignment to the invalid name ",
		    p->key.p, "");
		return (0);
	}
	xasprintf(&kv, "%s=%s", p->key.p, p->val.p);
	if ((ip = strmap_find(&p->names, p->key.p)) != NULL) {
		free(o->vars[*ip]);		/* the later one wins */
		o->vars[*ip] = kv;
		return (0);
	}
	if (o->nvars >= ENVFILE_MAX_VARS) {
		free(kv);
		return (envfile_fail(p, E2BIG, "more than %d variables",
		    ENVFILE_MAX_VARS));
	}
	if (o->nvars + 1 >= p->cap) {
		p->cap = p->cap == 0 ? 16 : p->cap * 2;
		o->vars = xreallocarray(o->vars, p->cap, sizeof *o->vars);
		p->keys = xreallocarray(p->keys, p->cap, sizeof *p->keys);
	}
	p->keys[o->nvars] = xstrdup(p->key.p);
	strmap_add(&p->names, p->keys[o->nvars], o->nvars);
	o->vars[o->nvars++] = kv;
	o->vars[o->nvars] = NULL;
	return (0);
}

/* The end of an assignment's line (or the file): push, start again. */
static int
envfile_end(struct envfile_parser *p, bool trim)
{
	int	rc;

	if (trim && p->val_ws != SIZE_MAX)
		p->val.n = p->val_ws;
	rc = envfile_push(p);
	p->key.n = p->val.n = 0;
	p->st = EF_PRE_KEY;
	return (rc);
}

/* PRE_KEY and KEY. */
static void
envfile_step_key(struct envfile_parser *p, char c)
{
	if (p->st == EF_PRE_KEY) {
		if (strchr(ENVFILE_COMMENT, c) != NULL)
			p->st = EF_COMMENT;
		else if (strchr(ENVFILE_WS, c) == NULL) {
			p->st = EF_KEY;
			p->at = p->line;
			p->key_ws = SIZE_MAX;
			envfile_put(&p->key, c);
		}
		return;
	}
	if (strchr(ENVFILE_NL, c) != NULL) {	/* no "=": not one */
		p->st = EF_PRE_KEY;
		p->key.n = 0;
	} else if (c == '=') {
		p->st = EF_PRE_VALUE;
		p->val_ws = SIZE_MAX;
	} else {
		if (strchr(ENVFILE_WS, c) == NULL)
			p->key_ws = SIZE_MAX;
		else if (p->key_ws == SIZE_MAX)
			p->key_ws = p->key.n;
		envfile_put(&p->key, c);
	}
}

/* PRE_VALUE, VALUE and VALUE_ESC. */
static int
envfile_step_value(struct envfile_parser *p, char c)
{
	bool	nl = strchr(ENVFILE_NL, c) != NULL;

	switch (p->st) {
	case EF_PRE_VALUE:
		if (nl)
			return (envfile_end(p, false));
		if (c == '\'')
			p->st = EF_SQUOTE;
		else if (c == '"')
			p->st = EF_DQUOTE;
		else if (c == '\\')
			p->st = EF_VALUE_ESC;
		else if (strchr(ENVFILE_WS, c) == NULL) {
			p->st = EF_VALUE;
			envfile_put(&p->val, c);
		}
		break;
	case EF_VALUE:
		if (nl)
			return (envfile_end(p, true));
		if (c == '\\') {
			p->st = EF_VALUE_ESC;
			p->val_ws = SIZE_MAX;
			break;
		}
		if (strchr(ENVFILE_WS, c) == NULL)
			p->val_ws = SIZE_MAX;
		else if (p->val_ws == SIZE_MAX)
			p->val_ws = p->val.n;
		envfile_put(&p->val, c);
		break;
	default:				/* EF_VALUE_ESC */
		p->st = EF_VALUE;
		if (!nl)			/* backslash-newline: gone */
			envfile_put(&p->val, c);
		break;
	}
	return (0);
}

/* SQUOTE, DQUOTE, DQUOTE_ESC, COMMENT, COMMENT_ESC. */
static void
envfile_step_other(struct envfile_parser *p, char c)
{
	switch (p->st) {
	case EF_SQUOTE:
		if (c == '\'')
			p->st = EF_PRE_VALUE;
		else
			envfile_put(&p->val, c);
		break;
	case EF_DQUOTE:
		if (c == '"')
			p->st = EF_PRE_VALUE;
		else if (c == '\\')
			p->st = EF_DQUOTE_ESC;
		else
			envfile_put(&p->val, c);
		break;
	case EF_DQUOTE_ESC:
		p->st = EF_DQUOTE;
		if (strchr(ENVFILE_DQ_ESC, c) == NULL && c != '\n')
			envfile_put(&p->val, '\\');	/* kept, as a shell */
		if (c != '\n')
			envfile_put(&p->val, c);
		break;
	case EF_COMMENT:
		if (c == '\\')
			p->st = EF_COMMENT_ESC;
		else if (strchr(ENVFILE_NL, c) != NULL)
			p->st = EF_PRE_KEY;
		break;
	default:				/* EF_COMMENT_ESC */
		/* Since systemd 254 a comment does not continue. */
		p->st = strchr(ENVFILE_NL, c) != NULL ? EF_PRE_KEY :
		    EF_COMMENT;
		break;
	}
}

static int
envfile_step(struct envfile_parser *p, const char *text, size_t len,
    size_t i)
{
	char	c = text[i];

	if (c == '\0') {
		p->at = p->line;
		return (envfile_fail(p, EINVAL, "a NUL byte"));
	}
	if (p->st == EF_PRE_KEY || p->st == EF_KEY)
		envfile_step_key(p, c);
	else if (p->st == EF_PRE_VALUE || p->st == EF_VALUE ||
	    p->st == EF_VALUE_ESC) {
		if (envfile_step_value(p, c) == -1)
			return (-1);
	} else
		envfile_step_other(p, c);
	/* Lines for messages: \n, \r\n and a lone \r end one each. */
	if (c == '\n' || (c == '\r' && (i + 1 == len || text[i + 1] != '\n')))
		p->line++;
	return (0);
}

static void
envfile_parser_free(struct envfile_parser *p)
{
	size_t	i;

	for (i = 0; i < p->out->nvars && p->keys != NULL; i++)
		free(p->keys[i]);
	free(p->keys);
	strmap_free(&p->names);
	free(p->key.p);
	free(p->val.p);
}

int
envfile_parse(const char *path, const char *text, size_t len,
    struct envfile *out, char **cause)
{
	struct envfile_parser	p;
	size_t			i;
	int			rc = 0;

	memset(out, 0, sizeof *out);
	memset(&p, 0, sizeof p);
	p.path = path;
	p.out = out;
	p.st = EF_PRE_KEY;
	p.line = p.at = 1;
	for (i = 0; i < len && rc == 0; i++)
		rc = envfile_step(&p, text, len, i);
	if (rc == 0 && (p.st == EF_SQUOTE || p.st == EF_DQUOTE ||
	    p.st == EF_DQUOTE_ESC)) {
		envfile_term(&p.key);
		envfile_warn(&p, "the quote in the value of ", p.key.p,
		    " is not closed: the value runs to the end of the file");
	}
	/* As systemd: an assignment the file ends in counts. */
	if (rc == 0 && p.st != EF_PRE_KEY && p.st != EF_KEY &&
	    p.st != EF_COMMENT && p.st != EF_COMMENT_ESC)
		rc = envfile_end(&p, p.st == EF_VALUE);
	envfile_parser_free(&p);
	if (rc == -1) {
		envfile_clear(out);
		*cause = p.cause;
		errno = p.err;
	}
	return (rc);
}

void
envfile_clear(struct envfile *e)
{
	size_t	i;

	for (i = 0; i < e->nvars; i++)
		free(e->vars[i]);
	free(e->vars);
	for (i = 0; e->warnings != NULL && e->warnings[i] != NULL; i++)
		free(e->warnings[i]);
	free(e->warnings);
	memset(e, 0, sizeof *e);
}

/* The bounded read of an open file (config_read's approach). */
static char *
envfile_slurp(int fd, const char *path, size_t *lenp, char **cause)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 saved;

	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		errno = EINVAL;
		return (NULL);
	}
	buf = xmalloc(ENVFILE_MAX_BYTES + 1);
	/* One byte more than allowed: a file that grew is caught too. */
	while (st.st_size <= ENVFILE_MAX_BYTES && len <= ENVFILE_MAX_BYTES &&
	    (n = read(fd, buf + len, ENVFILE_MAX_BYTES + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			goto fail;
		}
		len += n;
	}
	if (st.st_size > ENVFILE_MAX_BYTES || len > ENVFILE_MAX_BYTES) {
		free(buf);
		xasprintf(cause, "%s: larger than %d bytes", path,
		    ENVFILE_MAX_BYTES);
		errno = EFBIG;
		return (NULL);
	}
	*lenp = len;
	return (buf);
fail:
	saved = errno;
	xasprintf(cause, "%s: %s", path, strerror(saved));
	errno = saved;
	return (NULL);
}

int
envfile_read(const char *entry, const struct fscred *cr, struct envfile *out,
    char **cause)
{
	struct fscred		 none = { 0 };
	struct fscred_saved	 sv;
	const char		*path = entry + (*entry == '-');
	char			*buf;
	size_t			 len;
	int			 fd, saved, rc;

	memset(out, 0, sizeof *out);
	if (cr == NULL)
		cr = &none;
	if (*path != '/') {
		xasprintf(cause, "%s: not an absolute path", path);
		errno = EINVAL;
		return (-1);
	}
	if (fscred_become(cr, &sv) == -1) {
		saved = errno;
		xasprintf(cause, "%s: cannot take the ids of uid %u: %s", path,
		    (unsigned)cr->uid, strerror(saved));
		errno = saved;
		return (-1);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	fscred_unbecome(cr, &sv);		/* keeps errno */
	if (fd == -1) {
		saved = errno;
		if (*entry == '-' && (saved == ENOENT || saved == ENOTDIR)) {
			out->missing = true;
			return (0);
		}
		xasprintf(cause, "%s: %s", path, strerror(saved));
		errno = saved;
		return (-1);
	}
	buf = envfile_slurp(fd, path, &len, cause);
	saved = errno;
	close(fd);
	if (buf == NULL) {
		errno = saved;
		return (-1);
	}
	rc = envfile_parse(path, buf, len, out, cause);
	saved = errno;
	free(buf);
	errno = saved;
	return (rc);
}

int
envfile_parse_list(const json_t *j, char ***out, size_t *n, char **field,
    char **cause)
{
	const json_t	*el;
	const char	*s;
	size_t		 i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(j) || json_array_size(j) > ENVFILE_MAX_FILES) {
		*field = xstrdup("env_files");
		xasprintf(cause, "env_files must be an array of at most %d "
		    "paths", ENVFILE_MAX_FILES);
		return (-1);
	}
	*out = xcalloc(json_array_size(j) + 1, sizeof **out);
	json_array_foreach(j, i, el) {
		s = json_is_string(el) ? json_string_value(el) : NULL;
		if (s == NULL || strlen(s) != json_string_length(el) ||
		    json_string_length(el) > ENVFILE_MAX_PATH ||
		    s[*s == '-'] != '/' || strpbrk(s, "*?[") != NULL) {
			xasprintf(field, "env_files.%zu", i);
			xasprintf(cause, "%s must be an absolute path, "
			    "optionally after \"-\", of at most %d bytes, "
			    "without NUL or wildcards (* ? [)", *field,
			    ENVFILE_MAX_PATH);
			for (i = 0; i < *n; i++)
				free((*out)[i]);
			free(*out);
			*out = NULL;
			*n = 0;
			return (-1);
		}
		(*out)[(*n)++] = xstrdup(s);
	}
	return (0);
}

char **
envfile_merge(char *const *const *layers, size_t nlayers)
{
	struct strmap	  m = { NULL, 0, 0 };
	char		**out;
	size_t		  total = 0, i, k, *ip, klen, n = 0;

	for (i = 0; i < nlayers; i++)
		for (k = 0; layers[i] != NULL && layers[i][k] != NULL; k++)
			total++;
	out = xcalloc(total + 1, sizeof *out);
	for (i = 0; i < nlayers; i++)
		for (k = 0; layers[i] != NULL && layers[i][k] != NULL; k++) {
			klen = strcspn(layers[i][k], "=");
			ip = strmap_addn(&m, layers[i][k], klen, n);
			if (*ip == n)		/* a new name */
				n++;
			out[*ip] = layers[i][k];
		}
	strmap_free(&m);
	return (out);
}

void
envfile_set_clear(struct envfile_set *set)
{
	size_t	i;

	for (i = 0; i < set->n; i++)
		envfile_clear(&set->files[i]);
	free(set->files);
	free(set->merged);
	memset(set, 0, sizeof *set);
}

int
envfile_load(char *const *entries, size_t n, const struct fscred *cr,
    char **base, struct envfile_set *out, char **path, char **cause)
{
	char	*const	**layers;
	size_t		  i;
	int		  saved;

	memset(out, 0, sizeof *out);
	out->files = xcalloc(n + 1, sizeof *out->files);
	for (i = 0; i < n; i++, out->n++) {
		if (envfile_read(entries[i], cr, &out->files[i], cause) ==
		    -1) {
			saved = errno;
			*path = xstrdup(entries[i] + (entries[i][0] == '-'));
			envfile_set_clear(out);
			errno = saved;
			return (-1);
		}
	}
	layers = xcalloc(n + 1, sizeof *layers);
	layers[0] = base;
	for (i = 0; i < n; i++)
		layers[i + 1] = out->files[i].vars;
	out->merged = envfile_merge(layers, n + 1);
	free(layers);
	return (0);
}
