/* SPDX-License-Identifier: MIT */
/*
 * etcdrun: a private etcd cluster on loopback for the cluster tests.
 *
 * etcdrun_start(n) picks free loopback ports, makes a directory with
 * mkdtemp("/tmp/gtd-etcd-XXXXXX") (one data directory and one log per
 * member), starts n `etcd` members (etcd's default timing, 100 ms
 * heartbeats and a 1 s election timeout: faster ones make a loaded
 * machine hold elections all the time) and waits with a deadline until
 * every member answers /health.  Each member gets
 * PR_SET_PDEATHSIG(SIGKILL): if the test dies (a failed assertion
 * _exit()s, a Check timeout kills it), its members die with it.
 * etcdrun_stop() stops every member by pid (SIGKILL), reaps it with a
 * deadline, checks that none is left and removes the directory; after a
 * failure the directory stays, and failure messages name it.
 *
 * $ETCD overrides the etcd binary (default: etcd in PATH).  Any failure
 * of the helper fails the test (ck_abort_msg).  The helper blocks (it is
 * test code, not gtd): its HTTP calls use libcurl's easy API with short
 * timeouts.
 */
#ifndef GT_E2E_ETCDRUN_H
#define GT_E2E_ETCDRUN_H

#include <sys/types.h>

#include <stdbool.h>

#include <jansson.h>

#define ETCDRUN_MAX		5
#define ETCDRUN_READY_MS	20000	/* start to every member healthy */

struct etcdrun;

struct etcdrun	*etcdrun_start(int n);
void		 etcdrun_stop(struct etcdrun *);

int		 etcdrun_size(const struct etcdrun *);
const char	*etcdrun_dir(const struct etcdrun *);
/* "http://127.0.0.1:PORT" of member i (borrowed). */
const char	*etcdrun_endpoint(const struct etcdrun *, int i);
/* All client endpoints, NULL-terminated (borrowed). */
const char *const *etcdrun_endpoints(const struct etcdrun *);
pid_t		 etcdrun_pid(const struct etcdrun *, int i);	/* -1: down */

/* SIGKILL member i and reap it. */
void		 etcdrun_kill(struct etcdrun *, int i);
/*
 * Start member i again (same data) and wait until it is healthy, when a
 * majority of the members is up (otherwise no member can be healthy
 * yet: the caller restarts more and calls etcdrun_wait_healthy).
 */
void		 etcdrun_restart(struct etcdrun *, int i);
/* Send sig (SIGSTOP, SIGCONT) to member i. */
void		 etcdrun_signal(struct etcdrun *, int i, int sig);
/* Index of the member that leads now, or -1 (asks the live members). */
int		 etcdrun_leader(struct etcdrun *);
/* True when every live member answers /health within ms. */
bool		 etcdrun_wait_healthy(struct etcdrun *, int ms);

/*
 * POST body (JSON text) to path on the first live member that answers;
 * the parsed answer (the caller decrefs) or NULL.
 */
json_t		*etcdrun_post(struct etcdrun *, const char *path,
		    const char *body);
/* The current revision of the store (fails the test if none answers). */
long long	 etcdrun_revision(struct etcdrun *);
/* Compact the history up to rev (physical: waits until it is done). */
void		 etcdrun_compact(struct etcdrun *, long long rev);
/*
 * The keys with the given prefix and their values, as a JSON object
 * {key: value} (strings; the caller decrefs), read from a live member.
 */
json_t		*etcdrun_dump(struct etcdrun *, const char *prefix);

/*
 * Run loop (one iteration at a time) until pred(arg) is true or ms
 * passed; the last value of pred.  The tests' only way to wait.
 */
struct ev_loop;
bool		 etcdrun_loop_until(struct ev_loop *, bool (*)(void *),
		    void *, int ms);

#endif /* GT_E2E_ETCDRUN_H */
