# Native service functions: one folder per function (manifest + scripts),
# packed at build time into reproducible tgz images (nsf/mkimages.py).
# The images and templates that ship are committed in sf-repository/;
# nsf/check-images.sh (make check) fails if the sources no longer match
# them: then run  nsf/mkimages.py --update sf-repository  and commit.
NSF_PY = /usr/bin/python3
NSF_FILES = \
	nsf/lib/nsflib.py \
	nsf/bridge/manifest.json nsf/bridge/start nsf/bridge/stop \
	nsf/bridge/status \
	nsf/firewall/manifest.json nsf/firewall/start nsf/firewall/stop \
	nsf/firewall/status \
	nsf/nat/manifest.json nsf/nat/start nsf/nat/stop nsf/nat/status \
	nsf/router/manifest.json nsf/router/start nsf/router/stop \
	nsf/router/status
NSF_IMAGES = nsf/images/bridge.tgz nsf/images/firewall.tgz \
	nsf/images/nat.tgz nsf/images/router.tgz
EXTRA_DIST += $(NSF_FILES) nsf/bridge/update nsf/router/update \
	nsf/mkimages.py nsf/check-images.sh
CLEANFILES += $(NSF_IMAGES) nsf/images/stamp

# Installed as the node's default SF repository.
nsfimagesdir = $(pkgdatadir)/sf-repository/images
nsfimages_DATA = $(NSF_IMAGES)
nsftemplatesdir = $(pkgdatadir)/sf-repository/templates
dist_nsftemplates_DATA = \
	sf-repository/templates/bridge-native.json \
	sf-repository/templates/firewall-native.json \
	sf-repository/templates/nat-native.json \
	sf-repository/templates/router-native.json \
	sf-repository/templates/security-native.json
# The index of a repository served over HTTP (docs/sf-repository.md).
nsfrepodir = $(pkgdatadir)/sf-repository
dist_nsfrepo_DATA = sf-repository/index.json
TESTS += sf-repository/check-index.sh

$(NSF_IMAGES): nsf/images/stamp
nsf/images/stamp: $(NSF_FILES) $(srcdir)/nsf/mkimages.py
	$(AM_V_GEN)$(NSF_PY) $(srcdir)/nsf/mkimages.py --out nsf/images && touch $@

TESTS += nsf/check-images.sh
