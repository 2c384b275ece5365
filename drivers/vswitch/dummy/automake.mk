orchestrator_liborch_a_SOURCES += \
	drivers/vswitch/dummy/vswitch-dummy.c drivers/vswitch/dummy/vswitch-dummy.h
