# Documentation: shipped in the tarball, not installed.
# (docs/writing-a-driver.md is listed with the skeleton drivers.)
EXTRA_DIST += \
	docs/bus.md \
	docs/hacking.md \
	docs/native-engine.md \
	docs/openapi.yaml \
	docs/operations.md \
	docs/ovs-recipes.md \
	docs/rest-api.md \
	docs/security.md \
	docs/sf-repository.md \
	docs/sffg-format.md \
	docs/vswitch-ovs.md
