# End-to-end tests: real OVS, namespaces, the real daemon (root).  Run by
# "make check-e2e" (test/run-all.sh e2e); every test/e2e/NN-*.sh is one
# test.  A new test or helper must be listed here.
EXTRA_DIST += \
	test/e2e/lib.sh \
	test/e2e/lib-node.sh \
	test/e2e/01-packaging.sh \
	test/e2e/02-new-driver.sh \
	test/e2e/05-schema-agreement.sh \
	test/e2e/06-fuzz.sh \
	test/e2e/10-rest-api.sh \
	test/e2e/11-rest-compat.sh \
	test/e2e/12-rest-tls.sh \
	test/e2e/13-restart.sh \
	test/e2e/20-ovs-driver.sh \
	test/e2e/30-ovs-passthrough.sh \
	test/e2e/31-ovs-steering.sh \
	test/e2e/32-ovs-vlan.sh \
	test/e2e/33-ovs-two-graphs-vlan.sh \
	test/e2e/34-ovs-gre.sh \
	test/e2e/35-ovs-host-stack.sh \
	test/e2e/36-ovs-failure.sh \
	test/e2e/37-ovs-internal-group.sh \
	test/e2e/38-ovs-vlink-churn.sh \
	test/e2e/40-bus-broker.sh \
	test/e2e/40-bus-curve.sh \
	test/e2e/40-bus-description.sh \
	test/e2e/40-bus-lib.py \
	test/e2e/50-native-driver.sh \
	test/e2e/51-native-graph.sh \
	test/e2e/52-remote-repository.sh \
	test/e2e/53-recursive-template.sh \
	test/e2e/54-native-restart.sh \
	test/e2e/55-native-port-update.sh
