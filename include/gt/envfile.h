/* SPDX-License-Identifier: MIT */
/*
 * envfile: childspec env_files (protocol §9.1), files in the syntax of
 * systemd's EnvironmentFile= (systemd.exec(5)), read at every start of
 * the child, with the child's file-system credentials.  The parser
 * mirrors systemd's: KEY=VALUE lines; empty lines, lines without "=" and
 * lines starting with "#" or ";" are ignored; leading and trailing
 * whitespace of keys and unquoted values goes; an unquoted value keeps
 * its interior whitespace and quotes, and a backslash keeps the next
 * character (a backslash-newline continues the line); '...' is taken
 * verbatim and may span lines; "..." may span lines and unescapes \" \\
 * \` \$ (a backslash-newline continues, any other backslash stays);
 * quoted and unquoted parts next to each other join; a comment ending
 * in a backslash does not continue.  Like systemd, an assignment whose
 * name is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*, so also
 * "export FOO=1") is skipped with a warning, and a later assignment of
 * a name replaces an earlier one.  Unlike systemd, a NUL byte is an
 * error (systemd stops reading there), and every size is bounded.
 * Pure apart from the bounded read; never logs.
 */
#ifndef GT_ENVFILE_H
#define GT_ENVFILE_H

#include <stdbool.h>
#include <stddef.h>

struct fscred;
struct json_t;

#define ENVFILE_MAX_FILES	64		/* entries of env_files */
#define ENVFILE_MAX_PATH	4096		/* bytes of one, "-" included */
#define ENVFILE_MAX_BYTES	(1024 * 1024)	/* one file */
#define ENVFILE_MAX_VARS	4096		/* distinct names in one file */
/* One "KEY=VALUE" (execve(2)'s MAX_ARG_STRLEN less the NUL). */
#define ENVFILE_MAX_ENTRY	(128 * 1024 - 1)
#define ENVFILE_MAX_WARNINGS	16		/* kept; more are counted */

/* What one file gave. */
struct envfile {
	char	**vars;		/* "KEY=VALUE", NULL-terminated, owned */
	size_t	  nvars;
	char	**warnings;	/* "PATH:LINE: ...", NULL-terminated, owned */
	size_t	  nwarnings;	/* all of them, also those not kept */
	bool	  missing;	/* "-PATH" and the file does not exist */
};
void	envfile_clear(struct envfile *);	/* frees, zeroes */

/*
 * Parse the text of the file path (for messages only), len bytes.  0 and
 * *out filled, or -1 with *cause ("PATH:LINE: ...", xmalloc'd) and errno
 * EINVAL (a NUL byte, invalid UTF-8) or E2BIG (an assignment longer
 * than ENVFILE_MAX_ENTRY, more than ENVFILE_MAX_VARS names); *out is
 * then empty.
 */
int	envfile_parse(const char *path, const char *text, size_t len,
	    struct envfile *out, char **cause);

/*
 * Read and parse one env_files entry ("PATH" or "-PATH").  The file is
 * opened with cr's file-system credentials (NULL: gtd's), so a child's
 * file is read only if the child's user could read it, without blocking
 * on a FIFO (O_NONBLOCK) and only if it is a regular file of at most
 * ENVFILE_MAX_BYTES.  With "-", a file that does not exist (ENOENT,
 * ENOTDIR) sets out->missing and returns 0; every other failure is an
 * error even then (systemd ignores all of them: a file that is there
 * but cannot be read is worth saying so).  -1 with *cause and errno
 * (the open's; EINVAL not a regular file; EFBIG too large; as
 * envfile_parse) for spawn_failed's step env_file.
 */
int	envfile_read(const char *entry, const struct fscred *cr,
	    struct envfile *out, char **cause);

/*
 * Parse the childspec value env_files: an array of at most
 * ENVFILE_MAX_FILES absolute paths, each optionally prefixed with "-",
 * without NUL bytes or glob characters (* ? [, which systemd would
 * expand: gtd reads exactly the path).  0 and an owned NULL-terminated
 * vector in *out, *n, or -1 with *field ("env_files.1") and *cause.
 */
int	envfile_parse_list(const struct json_t *, char ***out, size_t *n,
	    char **field, char **cause);

/*
 * Merge environment layers, the lowest precedence first (protocol §9.1:
 * gtd's environment, then each env file in order, then env, then
 * GTD_*): per name, the last entry of the highest layer wins and takes
 * the place where that name first appeared.  Each layer is a
 * NULL-terminated vector of "KEY=VALUE" (NULL: empty); an entry without
 * "=" counts as a name alone.  Returns an xcalloc'd NULL-terminated
 * vector of borrowed pointers (free the vector, not the strings).
 */
char	**envfile_merge(char *const *const *layers, size_t nlayers);

/* What one start read: every file, and the merged environment. */
struct envfile_set {
	struct envfile	 *files;	/* owned, n of them */
	size_t		  n;
	char		**merged;	/* owned vector, borrowed strings */
};
void	envfile_set_clear(struct envfile_set *);	/* frees, zeroes */

/*
 * Read the n entries of env_files in order (envfile_read, with cr) and
 * merge base (the lowest layer, may be NULL) with them: out->merged has
 * base's entries and the files' (a later file wins), pointing into base
 * and out->files.  0, or -1 with *cause and *path (the failing file,
 * without "-"), both xmalloc'd, errno as envfile_read, and out empty.
 */
int	envfile_load(char *const *entries, size_t n, const struct fscred *cr,
	    char **base, struct envfile_set *out, char **path, char **cause);

#endif /* GT_ENVFILE_H */
