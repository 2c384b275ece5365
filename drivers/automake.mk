# Drivers are compiled into liborch.  Each driver folder has its own
# fragment, included here.
orchestrator_liborch_a_SOURCES += \
	drivers/vswitch/vswitch-provider.h \
	drivers/compute/compute-provider.h \
	drivers/common/dummy-faults.c drivers/common/dummy-faults.h

include drivers/vswitch/dummy/automake.mk
include drivers/compute/dummy/automake.mk
include drivers/vswitch/skeleton/automake.mk
include drivers/compute/skeleton/automake.mk
if ENABLE_OVS
include drivers/vswitch/ovs/automake.mk
endif
if ENABLE_NATIVE
include drivers/compute/native/automake.mk
endif
