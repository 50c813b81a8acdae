/* SPDX-License-Identifier: MIT */
/*
 * check_e2e_main: run every e2e suite in one SRunner.  CK_RUN_SUITE and
 * CK_RUN_CASE select a subset (Check reads them itself).  Failures are
 * listed first, so the output ends with Check's summary line, which CI
 * reads ("N%: Checks: N, Failures: 0, Errors: 0").
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <check.h>

#include "harness.h"

int
main(void)
{
	TestResult	**tr;
	SRunner		 *sr;
	int		  i, nfail;

	/* A gtd that closes a connection must not kill the test with EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	e2e_bins_setup();		/* nobody must reach what it runs */
	sr = srunner_create(e2e_basic_suite());
	srunner_add_suite(sr, e2e_framing_suite());
	srunner_add_suite(sr, e2e_lifecycle_suite());
	srunner_add_suite(sr, e2e_attrs_suite());
	srunner_add_suite(sr, e2e_registry_suite());
	srunner_add_suite(sr, e2e_gtctl_suite());
	srunner_add_suite(sr, e2e_stress_suite());
	srunner_add_suite(sr, e2e_systemd_suite());
	srunner_add_suite(sr, e2e_sql_suite());
	srunner_add_suite(sr, e2e_badinput_suite());
	srunner_add_suite(sr, e2e_faults_suite());
	srunner_add_suite(sr, e2e_cgroup_suite());
	srunner_add_suite(sr, e2e_config_suite());
	srunner_add_suite(sr, e2e_acl_suite());
	srunner_add_suite(sr, e2e_logs_suite());
	srunner_add_suite(sr, e2e_events_suite());
	srunner_add_suite(sr, e2e_security_suite());
	srunner_add_suite(sr, e2e_load_suite());
	srunner_add_suite(sr, e2e_supervision_suite());
	srunner_add_suite(sr, e2e_slow_suite());
	srunner_add_suite(sr, e2e_tour_suite());
	srunner_add_suite(sr, e2e_lifecycle2_suite());
	srunner_add_suite(sr, e2e_mirror_suite());
#ifdef HAVE_LIBCURL
	srunner_add_suite(sr, e2e_etcd_suite());
	srunner_add_suite(sr, e2e_cluster_suite());
	srunner_add_suite(sr, e2e_gtdcluster_suite());
#endif
	srunner_add_suite(sr, e2e_hostile_conn_suite());
	srunner_add_suite(sr, e2e_hostile_suite());
	srunner_add_suite(sr, e2e_chaos_suite());
	srunner_add_suite(sr, e2e_deps_suite());
	srunner_add_suite(sr, e2e_envfile_suite());
	srunner_add_suite(sr, e2e_health_suite());
	srunner_add_suite(sr, e2e_roll_suite());
	srunner_add_suite(sr, e2e_reexec_suite());
	srunner_add_suite(sr, e2e_groups_suite());
	srunner_run_all(sr, CK_SILENT);
	nfail = srunner_ntests_failed(sr);
	tr = srunner_failures(sr);
	for (i = 0; i < nfail; i++)
		printf("%s:%d:%s:%s: %s\n", tr_lfile(tr[i]), tr_lno(tr[i]),
		    tr_rtype(tr[i]) == CK_ERROR ? "E" : "F", tr_tcname(tr[i]),
		    tr_msg(tr[i]));
	free(tr);
	fflush(stdout);
	srunner_print(sr, CK_MINIMAL);
	srunner_free(sr);
	return (nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE);
}
