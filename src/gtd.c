/* SPDX-License-Identifier: MIT */
/*
 * gtd: main().  Options, config, the socket, the boot children, the
 * readiness fd, then ev_run until shutdown.  The only place (with
 * xmalloc) where gtd may die: before the loop runs, a bad config or an
 * unusable socket exits non-zero.
 *
 * The layers (README.md "Layers", checked by tests/layers.py): a file
 * calls only its own layer or below; what must go up goes through a
 * callback table declared in the lower header and filled in by loop.c
 * (conn_handler for the transport, child_observer for the core) or here
 * (reload_boot's done).
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "gt/child.h"
#include "gt/childcg.h"
#include "gt/childgroup.h"
#include "gt/config.h"
#include "gt/event.h"
#include "gt/gtcluster.h"
#include "gt/gtd-sd.h"
#include "gt/gtd.h"
#include "gt/log.h"
#include "gt/notify.h"
#include "gt/protocol.h"
#include "gt/reexec.h"
#include "gt/registry.h"
#include "gt/reload.h"
#include "gt/sd.h"
#include "gt/server.h"
#include "gt/shmirror.h"
#include "gt/shmlayout.h"
#include "gt/snapshot.h"
#include "gt/spawn.h"
#include "gt/xmalloc.h"

#define GTD_SOCKET_MODE	0660

static void	usage(void) __attribute__((noreturn));
static void	gtd_check(const char *, struct config *)
		    __attribute__((noreturn));
static void	gtd_help(void) __attribute__((noreturn));

static void
usage(void)
{
	fprintf(stderr, "usage: gtd [-dhnV] [-c config] [-r fd] [-s socket] "
	    "[-z zone]\n"
	    "       gtd -C fd | -R fd [-d] [-c config] [-s socket] "
	    "[-z zone]\n");
	exit(64);
}

static void
gtd_help(void)
{
	printf("usage: gtd [-dhnV] [-c config] [-r fd] [-s socket] "
	    "[-z zone]\n"
	    "  -c config  read the JSON config file\n"
	    "  -d         debug logging\n"
	    "  -h         this help\n"
	    "  -n         check the config and exit\n"
	    "  -r fd      write a newline to fd once ready, then close it\n"
	    "  -s socket  control socket path (default: the config's, else\n"
	    "             $GTD_SOCKET unless -z is given, else\n"
	    "             /run/gtd/ZONE.sock for root,\n"
	    "             $XDG_RUNTIME_DIR/gtd/ZONE.sock otherwise)\n"
	    "  -V         print the version\n"
	    "  -C fd      check a re-exec state in fd and exit (reexec's\n"
	    "             pre-flight)\n"
	    "  -R fd      take over from a re-exec: the state in fd\n"
	    "  -z zone    zone name (default \"default\")\n"
	    "See gtd(8), gtd.conf(5) and gtd-protocol(7).\n");
	exit(0);
}

/*
 * -n: the file parsed; now what it needs from the host.  Errors (a boot
 * child that could not start) and warnings go to stderr as
 * "gtd: FILE: FIELD: [warning: ]message"; exit 1 if there was an error.
 */
static void
gtd_check(const char *file, struct config *cf)
{
	struct config_issue	*is = NULL;
	size_t			 n = 0, i, nerr = 0;

	if (cf != NULL)
		n = config_check(cf, &is);
	for (i = 0; i < n; i++) {
		if (is[i].error)
			nerr++;
		fprintf(stderr, "gtd: %s: %s: %s%s\n", file, is[i].field,
		    is[i].error ? "" : "warning: ", is[i].message);
	}
	config_issues_free(is, n);
	if (nerr > 0) {
		fprintf(stderr, "gtd: %s: %zu error%s, %zu warning%s\n", file,
		    nerr, nerr == 1 ? "" : "s", n - nerr, n - nerr == 1 ? "" :
		    "s");
		exit(1);
	}
	if (n > 0)
		printf("%s: ok, %zu warning%s\n", file, n, n == 1 ? "" : "s");
	else
		printf("%s: ok\n", file != NULL ? file : "(no config)");
	config_free(cf);
	exit(0);
}

/* The socket_group of the config (resolved when it was parsed). */
static gid_t
gtd_socket_gid(const struct config *cf)
{
	if (cf == NULL || cf->socket_gid < 0)
		return ((gid_t)-1);
	return ((gid_t)cf->socket_gid);
}

/* All boot children are running: tell whoever waits for us. */
static void
gtd_announce(struct gtd *g)
{
	log_info("zone %s ready on %s (pid %d)", g->zone, g->socket_path,
	    (int)g->pid);
	gtd_sd_ready(g);		/* READY=1, STATUS= */
	if (g->rl->readyfd < 0)
		return;
	if (write(g->rl->readyfd, "\n", 1) != 1)
		log_warn("readiness fd %d", g->rl->readyfd);
	close(g->rl->readyfd);
	g->rl->readyfd = -1;
}

/* The boot ended: all boot children run, or one failed (exit 1). */
static void
gtd_boot_done(struct gtd *g, bool ok)
{
	if (ok)
		gtd_announce(g);
	else
		gtd_shutdown(g, 1, -1);
}

/*
 * Children get gtd's soft RLIMIT_NOFILE back; gtd itself takes the hard
 * limit, since it holds a few fds per starting child.
 */
static void
gtd_rlimits(struct gtd *g)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &g->spawn->nofile) == -1)
		fatal("getrlimit");
	rl = g->spawn->nofile;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit RLIMIT_NOFILE %llu",
		    (unsigned long long)rl.rlim_max);
}

/* fds 0-2 must be open, or pipes would land there and be clobbered. */
static void
gtd_stdio(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/*
 * The path children get in GTD_SOCKET when systemd passed the socket:
 * where that socket is really bound.  path (from -s, the config or the
 * default) stays only if the socket has no name in the filesystem.
 */
static char *
gtd_listen_path(int fd, char *path, int explicit)
{
	char	*real;

	if ((real = sd_socket_path(fd)) == NULL) {
		log_warn("socket from systemd: no path, children get %s",
		    path);
		return (path);
	}
	if (explicit && strcmp(real, path) != 0)
		log_warnx("socket from systemd is %s, not %s", real, path);
	free(path);
	return (real);
}

/*
 * The shared-memory mirror next to the socket (gtd-protocol(7) §9.4):
 * without it readers use the socket, so a failure is only a warning.
 */
static void
gtd_mirror(struct gtd *g, const struct config *cf)
{
	struct shmirror_opts	 o = { .socket = g->socket_path,
	    .max_bytes = g->lim.max_mirror_bytes };
	char			*path, *cause = NULL;

	if (o.max_bytes == 0)
		return;
	/* An acl that denies read by default: the mode cannot say who may. */
	o.owner_only = cf != NULL && cf->acl.set && cf->acl.dflt < ACL_READ;
	xasprintf(&path, "%s%s", g->socket_path, SHM_SUFFIX);
	o.path = path;
	if (registry_publish(g->reg, &o, &cause) == -1) {
		log_warnx("mirror: %s: readers use the socket", cause);
		free(cause);
	}
	free(path);
}

/*
 * -C or -R: the state a re-exec handed over.  -C (check): exit 0 if
 * this program can restore it, else say why on stderr and exit 1.
 */
static char *
gtd_state(int fd, size_t *len, bool check, char **argv)
{
	char	*text, *cause = NULL;

	if ((text = reexec_read(fd, len, &cause)) == NULL ||
	    (check && reexec_check(NULL, text, *len, &cause) == -1)) {
		fprintf(stderr, "gtd: %s\n", cause);
		if (!check && text != NULL)
			reexec_fallback(text, *len, fd, argv, cause);
		free(cause);
		free(text);
		exit(1);
	}
	if (check) {
		free(text);
		text = NULL;	/* main exits once the config is read */
	}
	return (text);
}

/* The binary a reexec without path runs: the one we were started from. */
static void
gtd_exe(struct gtd *g)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	if (g->rx->exe != NULL)
		return;
	if ((n = readlink("/proc/self/exe", buf, sizeof buf - 1)) <= 0)
		return;
	buf[n] = '\0';
	g->rx->exe = xstrdup(buf);
}

int
main(int argc, char **argv)
{
	struct gtd		*g;
	struct config		*cf = NULL;
	struct config_socket_in	 sin;
	const char		*conffile = NULL, *sockopt = NULL;
	const char		*zoneopt = NULL;
	char			*cause = NULL, *field = NULL, *end, *path;
	int			 ch, debug = 0, check = 0, readyfd = -1, fd;
	int			 code, lfd, checkfd = -1, restorefd = -1;
	char			*state = NULL, *fallback = NULL;
	size_t			 statelen = 0;

	/*
	 * A query may allocate tens of MiB in values of up to 64 KiB and
	 * free them all at once (a sort).  With glibc's default, each free
	 * near the top of the heap shrinks it by a little (brk), and on a
	 * virtual machine each shrink costs a TLB flush: 300 ms in one step
	 * of SQLite's program, measured.  Keep up to 32 MiB of free heap
	 * top instead, returned at the next free past it.  Process-wide:
	 * SQL (the registry's mirror) is gtd's big allocator.
	 */
	(void)mallopt(M_TRIM_THRESHOLD, 32 * 1024 * 1024);	/* a hint */
	while ((ch = getopt(argc, argv, "C:c:dhnR:r:s:Vz:")) != -1) {
		switch (ch) {
		case 'C':
		case 'R':
			fd = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || fd < 0)
				usage();
			if (ch == 'C')
				checkfd = fd;
			else
				restorefd = fd;
			break;
		case 'c':
			conffile = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'h':
			gtd_help();
		case 'n':
			check = 1;
			break;
		case 'r':
			readyfd = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || readyfd < 0)
				usage();
			break;
		case 's':
			sockopt = optarg;
			break;
		case 'V':
			printf("gtd %s (protocol %d)\n", GT_VERSION,
			    GT_PROTO_VERSION);
			exit(0);
		case 'z':
			zoneopt = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	gtd_stdio();
	/* A re-exec handed back to us: why (never passed to children). */
	if ((end = getenv(REEXEC_FALLBACK_ENV)) != NULL) {
		fallback = xstrdup(end);
		(void)unsetenv(REEXEC_FALLBACK_ENV);
	}
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));	/* jitter */
	log_init(debug ? LOG_LVL_DEBUG : LOG_LVL_INFO, check ? LOG_PREFIX_NONE :
	    sd_journal_stream(STDERR_FILENO) ? LOG_PREFIX_PRIORITY :
	    LOG_PREFIX_TIME);
	xmalloc_install_json();
	if (checkfd != -1 || restorefd != -1)
		state = gtd_state(checkfd != -1 ? checkfd : restorefd,
		    &statelen, checkfd != -1, argv);
	if (conffile != NULL &&
	    (cf = config_load(conffile, &field, &cause)) == NULL) {
		if (checkfd != -1)
			fprintf(stderr, "gtd: %s: %s%s%s\n", conffile,
			    field != NULL ? field : "", field != NULL &&
			    *field != '\0' ? ": " : "", cause);
		if (checkfd != -1)
			exit(1);
		/* After a re-exec: back to the program that handed over. */
		if (state != NULL) {
			log_warnx("reexec: %s: %s; running the previous "
			    "program", conffile, cause);
			reexec_fallback(state, statelen, restorefd, argv,
			    cause);
		}
		/* An unreadable file's cause names the path already. */
		if (field == NULL || *field == '\0')
			fatalx("%s", cause);
		fatalx("%s: %s: %s", conffile, field, cause);
	}
	if (check)
		gtd_check(conffile, cf);
	if (checkfd != -1) {
		config_free(cf);
		exit(0);	/* the state and the config: both fine */
	}
	if (cf != NULL && !debug)
		log_set_level(cf->log_level);
	if ((g = gtd_new(&child_real_ops, &cause)) == NULL)
		fatalx("%s", cause);
	/* Both unset systemd's variables before anything is spawned. */
	if (sd_listen_fd(&lfd) == -1)
		fatal("socket from systemd (LISTEN_FDS)");
	gtd_sd_init(g);
	if (cf != NULL)
		g->lim = cf->lim;
	free(g->zone);
	g->zone = xstrdup(zoneopt != NULL ? zoneopt : cf != NULL &&
	    cf->zone != NULL ? cf->zone : GT_DEFAULT_ZONE);
	sin = (struct config_socket_in){ .sockopt = sockopt,
	    .zoneopt = zoneopt, .cf = cf, .env_socket = getenv("GTD_SOCKET"),
	    .xdg = getenv("XDG_RUNTIME_DIR"), .euid = geteuid() };
	if ((path = config_socket_path(&sin, &cause)) == NULL)
		fatalx("%s", cause);
	if (*path != '/') {		/* children run in "/": absolute */
		char	*cwd = getcwd(NULL, 0);

		if (cwd == NULL)
			fatal("getcwd");
		xasprintf(&end, "%s/%s", cwd, path);
		free(cwd);
		free(path);
		path = end;
	}
	if (lfd != -1)
		path = gtd_listen_path(lfd, path, sockopt != NULL ||
		    (cf != NULL && cf->socket != NULL));
	free(g->socket_path);
	g->socket_path = path;
	signal(SIGPIPE, SIG_IGN);	/* writes use MSG_NOSIGNAL anyway */
	gtd_rlimits(g);
	if ((g->notify = notify_new(g, &cause)) == NULL)
		fatalx("%s", cause);
	g->rx->argv = argv;
	g->rx->adopt_on_restart = cf != NULL && cf->adopt_on_restart;
	/* Leftover cgroups are ours to adopt, or a re-exec's children. */
	g->rx->restoring = state != NULL || g->rx->adopt_on_restart;
	if (state == NULL && (fd = lfd) == -1 && (fd = server_bind(path,
	    cf != NULL && cf->socket_mode >= 0 ? (mode_t)cf->socket_mode :
	    GTD_SOCKET_MODE, gtd_socket_gid(cf), &cause)) == -1)
		fatalx("%s", cause);
	/* systemd's socket is systemd's to remove: no path to unlink. */
	if (state == NULL)
		g->server = server_new(g->loop, g->conns, fd, lfd == -1 ?
		    path : NULL);
	gtd_exe(g);
	childcg_open(g, cf);		/* the socket is ours: so is the base */
	gtd_mirror(g, cf);
	gtd_loop_init(g);
	if (cf != NULL)		/* before any row: a snapshot's too */
		childgroup_configure(g, cf->groups, cf->ngroups);
	if (cf != NULL && cf->snapshot_path != NULL && (g->snapshot =
	    snapshot_new(g, cf->snapshot_path, cf->snapshot_interval_ms,
	    &cause)) == NULL)
		fatalx("snapshot: %s", cause);
	g->rl->conf = cf;
	g->rl->debug = debug;
	if (conffile != NULL && (g->rl->path = realpath(conffile, NULL)) ==
	    NULL)
		g->rl->path = xstrdup(conffile);	/* reload says why */
	g->rl->readyfd = readyfd;
	if (state != NULL) {
		reexec_set_failed(g, fallback);
		if (reexec_restore(g, state, statelen, &cause) == -1) {
			log_warnx("reexec: %s; running the previous program",
			    cause);
			reexec_fallback(state, statelen, restorefd, argv,
			    cause);
			fatalx("reexec: %s", cause);
		}
		free(state);
		free(fallback);
		g->rx->restoring = false;
		reexec_adopt_start(g);
		gtd_sd_ready(g);
	} else {
		if (g->rx->adopt_on_restart)
			reexec_adopt_load(g);	/* before the boot */
		g->rx->restoring = false;
		reexec_adopt_start(g);
		/* Before the boot: a boot child of scope cluster claims it. */
		if (cf != NULL && cf->cluster != NULL &&
		    gtcluster_open(g, cf->cluster, &cause) == -1)
			fatalx("%s", cause);
		reload_boot(g, gtd_boot_done);
	}
	/* A boot that failed with nothing left to stop: ev_break was lost. */
	if (!(g->shut->active && g->tab->nprocs == 0))
		ev_run(g->loop, 0);
	gtcluster_leave(g);		/* every child is down: revoke */
	code = g->shut->exit_code;
	log_info("exiting with status %d", code);
	gtd_free(g);
	return (code);
}
