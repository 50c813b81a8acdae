/* SPDX-License-Identifier: MIT */
/*
 * cmd-add-existing-child: adopt a process gtd did not start (gen_tracker's
 * add_existing_child).  It is watched through a pidfd, opened through
 * the child_ops seam; its start time is read before and after the pidfd
 * is opened, so a pid reused meanwhile is noproc rather than a stranger
 * adopted.  Without a cmd the row vanishes when the process dies; with
 * one the policy may restart it.
 *
 * Adopting lets the peer stop and signal the process through gtd, so
 * gtd adopts only what the peer could signal itself: a peer that is not
 * root may adopt only processes of its own user (kill(2)'s rule: its
 * uid is the process's real or saved uid).  Never init, gtd itself, its
 * parent or one of its hooks: stopping those would stop gtd or the
 * machine.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gt/cmd.h"
#include "gt/config.h"
#include "gt/conn.h"
#include "gt/gtd.h"
#include "gt/procstat.h"
#include "gt/protocol.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

static enum cmd_ret	cmd_add_existing_child_exec(struct cmd_ctx *,
			    json_t *);

static const char *const cmd_add_existing_child_args[] = { "pid", NULL };

const struct cmd_entry cmd_add_existing_child_entry = {
	.name = "add_existing_child",
	.access = ACL_CONTROL,
	.usage = "name pid=N [attrs={...}] [childspec fields]",
	.flags = CMD_MUTATES | CMD_SPEC,
	.keys = cmd_add_existing_child_args,
	.exec = cmd_add_existing_child_exec
};

/* Field 22 of /proc/PID/stat: start time in clock ticks; 0 if gone. */
static unsigned long long
cmd_add_existing_start_time(pid_t pid)
{
	struct proc_stat	ps;

	return (proc_stat(pid, &ps) == -1 ? 0 : ps.starttime);
}

/*
 * The real and saved uids of pid (the "Uid:" line of its status), or -1.
 */
static int
cmd_add_existing_uids(pid_t pid, uid_t *ruid, uid_t *suid)
{
	char		 path[64], line[256];
	unsigned	 r, e, sv;
	FILE		*f;
	int		 rc = -1;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "Uid: %u %u %u", &r, &e, &sv) == 3) {
			*ruid = r;
			*suid = sv;
			rc = 0;
			break;
		}
	}
	fclose(f);
	return (rc);
}

/*
 * A pid gtd must never adopt: init, itself, its parent, a hook of its
 * own.  The reason, or NULL.
 */
static const char *
cmd_add_existing_never(struct gtd *g, pid_t pid, const char **hook)
{
	struct child	*c;

	if (pid == 1)
		return ("init");
	if (pid == g->pid)
		return ("gtd itself");
	if (pid == getppid())
		return ("gtd's parent");
	TAILQ_FOREACH(c, &g->tab->children, entry) {
		if (c->hook_pid == pid) {
			*hook = c->name;
			return ("the after_terminate hook of");
		}
	}
	return (NULL);
}

/* May this peer adopt pid (signal it)?  0, or -1 with the error set. */
static int
cmd_add_existing_may(struct cmd_ctx *ctx, pid_t pid)
{
	uid_t	peer = ctx->conn->uid, ruid, suid;

	if (peer == 0)
		return (0);
	if (cmd_add_existing_uids(pid, &ruid, &suid) == -1) {
		cmd_error(ctx, GT_E_NOPROC, "no process %d", (int)pid);
		return (-1);
	}
	if (peer == ruid || peer == suid)
		return (0);
	cmd_error(ctx, GT_E_PERMISSION, "pid %d runs as uid %u: uid %u may "
	    "adopt only processes it could signal itself", (int)pid,
	    (unsigned)ruid, (unsigned)peer);
	return (-1);
}

/* The spec: the given fields, with no cmd allowed (then ncmd == 0). */
static struct childspec *
cmd_add_existing_spec(struct cmd_ctx *ctx, json_t *args)
{
	struct childspec	*s;
	char			*field, *cause;
	bool			 nocmd = json_object_get(args, "cmd") == NULL;

	if (nocmd)
		json_object_set_new(args, "cmd", json_pack("[s]", "-"));
	if ((s = config_spec_build(cmd_tpl(ctx), args, &field,
	    &cause)) == NULL) {
		cmd_bad(ctx, field, "%s", cause);
		free(field);
		free(cause);
		return (NULL);
	}
	if (nocmd) {
		spec_strv_free(s->cmd);
		s->cmd = xcalloc(1, sizeof *s->cmd);
		s->ncmd = 0;
	}
	return (s);
}

/*
 * A pidfd of pid (owned by the caller), or -1 once the error is set.  The
 * start time is read before and after it is opened, so a pid reused
 * meanwhile is noproc.  A pidfd_open that fails for any other reason
 * than a missing process (ENOSYS: a kernel before 5.3, or an emulator
 * such as valgrind) is spawn_failed with its errno, never noproc: the
 * process may well exist.
 */
static int
cmd_add_existing_pidfd(struct cmd_ctx *ctx, pid_t pid)
{
	unsigned long long	t0;
	int			fd, e;

	t0 = cmd_add_existing_start_time(pid);
	fd = ctx->gtd->ops->pidfd_open(pid);
	if (fd == -1 && errno != ESRCH && errno != EINVAL) {
		e = errno;
		if (e == ENOSYS)
			cmd_error(ctx, GT_E_SPAWN_FAILED,
			    "cannot adopt pid %d: "
			    "pidfd_open is not supported here (ENOSYS)",
			    (int)pid);
		else
			cmd_error(ctx, GT_E_SPAWN_FAILED,
			    "cannot adopt pid %d: pidfd_open: %s", (int)pid,
			    strerror(e));
		cmd_set(ctx, "errno", json_string(spawn_errno_name(e)));
		return (-1);
	}
	/* Whose it is, read while the pidfd pins the process down. */
	if (fd != -1 && t0 != 0 && cmd_add_existing_may(ctx, pid) == -1) {
		close(fd);
		return (-1);
	}
	/* ESRCH: no such process; EINVAL: a thread, not a process. */
	if (fd == -1 || t0 == 0 || cmd_add_existing_start_time(pid) != t0) {
		if (fd != -1)
			close(fd);
		cmd_error(ctx, GT_E_NOPROC, "no process %d", (int)pid);
		return (-1);
	}
	return (fd);
}

static enum cmd_ret
cmd_add_existing_child_exec(struct cmd_ctx *ctx, json_t *args)
{
	struct childspec	*s;
	struct child		*c;
	const char		*why, *hook = NULL;
	int64_t			 pid = 0;
	int			 fd;

	if (cmd_arg_int(ctx, args, "pid", 1, INT32_MAX, &pid) == -1)
		return (CMD_ERROR);
	if (pid == 0) {
		cmd_bad(ctx, "pid", "missing argument pid");
		return (CMD_ERROR);
	}
	json_object_del(args, "pid");
	if ((s = cmd_add_existing_spec(ctx, args)) == NULL)
		return (CMD_ERROR);
	if ((c = child_find(ctx->gtd, s->name)) != NULL ||
	    (c = child_find_pid(ctx->gtd, (pid_t)pid)) != NULL) {
		spec_free(s);
		cmd_error(ctx, GT_E_ALREADY_STARTED, "%s is supervised already",
		    c->name);
		cmd_pid(ctx, c);
		return (CMD_ERROR);
	}
	if ((why = cmd_add_existing_never(ctx->gtd, (pid_t)pid, &hook)) !=
	    NULL) {
		spec_free(s);
		cmd_bad(ctx, "pid", "pid %d is %s%s%s: gtd never adopts it",
		    (int)pid, why, hook != NULL ? " " : "", hook != NULL ?
		    hook : "");
		return (CMD_ERROR);
	}
	if ((fd = cmd_add_existing_pidfd(ctx, (pid_t)pid)) == -1) {
		spec_free(s);
		return (CMD_ERROR);
	}
	if ((c = child_adopt(ctx->gtd, s, config_spec_text(s), (pid_t)pid,
	    fd)) == NULL) {
		cmd_error(ctx, GT_E_LIMIT, "max_children (%d) reached",
		    ctx->gtd->lim.max_children);
		cmd_set(ctx, "limit", json_string("max_children"));
		return (CMD_ERROR);
	}
	cmd_pid(ctx, c);
	return (CMD_OK);
}
