# The skeleton vSwitch driver is compiled into a library that nothing links
# (and it is not registered), so that it keeps up with the contract.
noinst_LIBRARIES += drivers/vswitch/skeleton/libvswitch-skeleton.a
drivers_vswitch_skeleton_libvswitch_skeleton_a_SOURCES = \
	drivers/vswitch/skeleton/vswitch-skeleton.c \
	drivers/vswitch/skeleton/vswitch-skeleton.h
EXTRA_DIST += docs/writing-a-driver.md
