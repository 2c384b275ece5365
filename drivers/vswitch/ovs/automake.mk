# The Open vSwitch driver: OVSDB (RFC 7047) + OpenFlow 1.3, no ovs-* tools.
orchestrator_liborch_a_SOURCES += \
	drivers/vswitch/ovs/vswitch-ovs.c drivers/vswitch/ovs/vswitch-ovs.h
