/* SPDX-License-Identifier: MIT */
/*
 * hook: what an after_terminate hook reads on stdin.  Kept apart from
 * child.c because it speaks JSON (the core modules do not include
 * jansson.h).  Never logs.
 */
#ifndef GT_HOOK_H
#define GT_HOOK_H

struct child;

/*
 * The payload: {"name", "pid", "reason", "restart_count", "attrs"} on one
 * line, xmalloc'd.  Reads c's attrs from the registry.
 */
char	*hook_payload(struct child *c);

/*
 * A readable fd (a memfd, CLOEXEC, at offset 0) holding text, for a
 * hook's stdin; writing it never blocks.  -1 with errno on failure.
 */
int	 hook_stdin(const char *text);

#endif /* GT_HOOK_H */
