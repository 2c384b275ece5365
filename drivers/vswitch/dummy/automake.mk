VSWITCH_DRIVERS += dummy
orchestrator_liborch_a_SOURCES += \
	drivers/vswitch/dummy/vswitch-dummy.c drivers/vswitch/dummy/vswitch-dummy.h
# The SF repository the core's unit tests (test-resolver, test-nrm) use.
EXTRA_DIST += test/data/repository/README \
	test/data/repository/images/fw.img \
	test/data/repository/templates/acl-native.json \
	test/data/repository/templates/bad-no-engine.json \
	test/data/repository/templates/bad-not-json.json \
	test/data/repository/templates/bad-wrong-sha.json \
	test/data/repository/templates/firewall-big.json \
	test/data/repository/templates/firewall-dep.json \
	test/data/repository/templates/firewall-docker.json \
	test/data/repository/templates/firewall-kern.json \
	test/data/repository/templates/firewall-native.json \
	test/data/repository/templates/nat-native.json \
	test/data/repository/templates/nat-one-port.json \
	test/data/repository/templates/router-docker.json \
	test/data/repository/templates/router-kvm.json \
	test/data/repository/templates/router-native.json \
	test/data/repository/templates/security-sub.json
