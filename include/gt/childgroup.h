/* SPDX-License-Identifier: MIT */
/*
 * childgroup: OTP groups at run time (protocol §9.1 "groups"), the
 * daemon's side of group.c.  child.c reports every row's additions,
 * decided exits, state changes and removals through its child_observer
 * (loop.c hands them here); this module keeps each group's members (a
 * row joins through member_of in its spec), lets group.c decide what a
 * member's exit leads to, and walks the resulting sequence of stops and
 * starts one step at a time, each step going on at the transition that
 * completes the one before (no polling, never blocking).  The row of the
 * current step is held by a ref: a client may stop or delete it at any
 * time, and the sequence goes on without it.  Decides, so it logs.
 */
#ifndef GT_CHILDGROUP_H
#define GT_CHILDGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gt/child.h"
#include "gt/policy.h"

struct childspec;
struct config;
struct group_conf;
struct gtd;

/*
 * The config's groups (at startup and at each reload, before its rows
 * are added): a group new in confs is made, a changed one takes its new
 * conf (its restart window is kept), one gone from confs stays until
 * its last member leaves.  Then every row's membership is brought in
 * line with its spec (childgroup_sync).
 */
void	childgroup_configure(struct gtd *, const struct group_conf *confs,
	    size_t n);
/* Free every group (child_free_all). */
void	childgroup_free(struct gtd *);

/*
 * May a row with spec s be added now (start_child, find_or_open,
 * add_existing_child)?  Its member_of must name a group of the active
 * config, and the group must take it (group_member_check, at most
 * GROUP_MAX_MEMBERS members).  0, or -1
 * with *field ("member_of", "significant") and *cause, both xmalloc'd.
 */
int	childgroup_check(struct gtd *, const struct childspec *s,
	    char **field, char **cause);
/*
 * A reload to confs keeps no row whose member_of would name no group:
 * a row that is not a boot child of cf (made at run time) must name a
 * group of cf.  0, or -1 with *field ("groups") and *cause.
 */
int	childgroup_reload_check(struct gtd *, const struct config *cf,
	    char **field, char **cause);

/*
 * c's membership as its spec says (the next start's spec if a reload
 * changed it): it leaves any other group and joins its own, last in
 * start order.  child_add, a new spec, a reload.
 */
void	childgroup_sync(struct child *c);
/* c is about to be removed: it leaves its group. */
void	childgroup_removed(struct child *c);
/* c changed state from old: the group's sequence may go on. */
void	childgroup_changed(struct child *c, enum child_state old);
/* The observer's decided (child.h): the group's verdict on c's exit. */
enum policy_action childgroup_decided(struct child *c, enum policy_action a,
	    int status, int64_t delay_ms, bool gave_up, bool *held);

/* The group c is a member of (borrowed), or NULL. */
const char	*childgroup_name(const struct child *c);

#endif /* GT_CHILDGROUP_H */
