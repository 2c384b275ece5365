COMPUTE_DRIVERS += dummy
orchestrator_liborch_a_SOURCES += \
	drivers/compute/dummy/compute-dummy.c drivers/compute/dummy/compute-dummy.h
