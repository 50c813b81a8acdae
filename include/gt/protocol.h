/* SPDX-License-Identifier: MIT */
/*
 * protocol: constants shared by gtd, gtctl and the tests.
 *
 * History of GT_PROTO_VERSION (bump it for every change that breaks a
 * client; new ops, new optional arguments and new result fields do not):
 *   v1: initial protocol (spec/protocol.md).
 */
#ifndef GT_PROTOCOL_H
#define GT_PROTOCOL_H

#define GT_VERSION		"0.1.0"
#define GT_PROTO_VERSION	1

#define GT_DEFAULT_ZONE		"default"
#define GT_NAME_MAX		1024		/* bytes in a child name */
#define GT_KEY_MAX		1024		/* bytes in an attr key */
#define GT_REQUEST_MAX		(1024 * 1024)	/* default max_request_bytes */
#define GT_OUTPUT_MAX		(16 * 1024 * 1024) /* queued reply bytes */
#define GT_OUTPUT_TOTAL_MAX	(256 * 1024 * 1024) /* ... of all conns */
#define GT_CONN_MAX		1024		/* default max_connections */
#define GT_CONN_ROOT_RESERVE	4	/* slots for root alone, at most */
#define GT_ATTR_VALUE_MAX	(64 * 1024)	/* max_attr_value_bytes */
#define GT_ATTR_BYTES_MAX	(1024 * 1024)	/* default max_attr_bytes */
#define GT_CHILDREN_MAX		100000		/* default max_children */
#define GT_ATTRS_MAX		1000	/* default max_attrs per child */
#define GT_FOLLOWS_MAX		64	/* logs follow names per connection */
#define GT_SUBSCRIBE_NAMES_MAX	4096	/* names of one subscribe */

/* Error codes (protocol §2). */
#define GT_E_BAD_JSON		"bad_json"
#define GT_E_BAD_REQUEST	"bad_request"
#define GT_E_UNKNOWN_OP		"unknown_op"
#define GT_E_NOT_FOUND		"not_found"
#define GT_E_NOT_RUNNING	"not_running"
#define GT_E_ALREADY_STARTED	"already_started"
#define GT_E_ALREADY_PRESENT	"already_present"
#define GT_E_RUNNING		"running"
#define GT_E_RESTARTING		"restarting"
#define GT_E_SPAWN_FAILED	"spawn_failed"
#define GT_E_EXITED		"exited"
#define GT_E_TIMEOUT		"timeout"
#define GT_E_NOPROC		"noproc"
#define GT_E_NOT_INTEGER	"not_integer"
#define GT_E_OVERFLOW		"overflow"
#define GT_E_PERMISSION		"permission_denied"
#define GT_E_TOO_BIG		"too_big"
#define GT_E_LIMIT		"limit"
#define GT_E_SHUTTING_DOWN	"shutting_down"
#define GT_E_BAD_CONFIG		"bad_config"
#define GT_E_SQL_ERROR		"sql_error"
#define GT_E_READ_ONLY		"read_only"
#define GT_E_BUSY		"busy"		/* restart_children */
#define GT_E_UNAVAILABLE	"unavailable"	/* cluster: no etcd */

#endif /* GT_PROTOCOL_H */
