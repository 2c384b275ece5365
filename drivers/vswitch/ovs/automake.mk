# The Open vSwitch driver: OVSDB (RFC 7047) + OpenFlow 1.3, no ovs-* tools.
VSWITCH_DRIVERS += ovs
orchestrator_liborch_a_SOURCES += \
	drivers/vswitch/ovs/vswitch-ovs.c drivers/vswitch/ovs/vswitch-ovs.h \
	drivers/vswitch/ovs/ovsdb.c drivers/vswitch/ovs/ovsdb.h \
	drivers/vswitch/ovs/ofp.c drivers/vswitch/ovs/ofp.h \
	drivers/vswitch/ovs/ofconn.c drivers/vswitch/ovs/ofconn.h

# Benchmark of the driver against ovs-vsctl / ovs-ofctl (run by
# test/bench/bench-ovs.sh with a private OVS).
noinst_PROGRAMS += test/bench/bench-ovs
test_bench_bench_ovs_SOURCES = test/bench/bench-ovs.c
test_bench_bench_ovs_LDADD = orchestrator/liborch.a $(CORCH_LIBS)

if HAVE_CMOCKA
# The encoder against an independent decoder (ovs-ofctl ofp-print).
check_PROGRAMS += test/unit/test-ovs-ofp
TESTS += test/unit/test-ovs-ofp
test_unit_test_ovs_ofp_SOURCES = test/unit/test-ovs-ofp.c
test_unit_test_ovs_ofp_CFLAGS = $(TEST_CFLAGS)
test_unit_test_ovs_ofp_LDADD = $(TEST_LDADD)

# The driver against a private Open vSwitch (skips without root / OVS).
check_PROGRAMS += test/unit/test-ovs
TESTS += test/unit/test-ovs
test_unit_test_ovs_SOURCES = test/unit/test-ovs.c
test_unit_test_ovs_CFLAGS = $(TEST_CFLAGS)
test_unit_test_ovs_LDADD = $(TEST_LDADD)
endif
