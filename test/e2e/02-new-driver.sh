#!/bin/bash
# Issue 8: adding a vSwitch driver changes no file outside its folder and
# the driver list.  In a scratch copy of the tree: the skeleton folder is
# copied to drivers/vswitch/example with every "skeleton" renamed, its
# automake.mk compiles it into the daemon and registers it
# (VSWITCH_DRIVERS), drivers/automake.mk includes it; the tree builds, the
# daemon finds the driver (vswitch.driver=example reaches its open(), which
# says it is not a driver, instead of "unknown driver"), and git shows that
# only drivers/vswitch/example/ and drivers/automake.mk changed.  No OVS,
# no root beyond what lib.sh asks.
. "$(dirname "$0")/lib.sh"
e2e_init new-driver
for tool in git autoreconf make cc; do
    command -v $tool >/dev/null || { echo "$E2E_NAME: no $tool: skipped"; exit 77; }
done

git -C "$E2E_TOP" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "$E2E_NAME: not a git work tree (a tarball?): skipped"; exit 77; }

# The scratch copy: the tracked files as they are in the work tree.
SRC=$T/src
mkdir -p "$SRC"
(cd "$E2E_TOP" && git ls-files -z | xargs -0 tar -cf - --no-recursion) |
    tar -xf - -C "$SRC" || { fail "copy the tree"; e2e_finish; }
git -C "$SRC" init -q && git -C "$SRC" add -A &&
    git -C "$SRC" -c user.name=t -c user.email=t@t commit -qm base ||
    { fail "scratch repository"; e2e_finish; }

# The new driver: the skeleton, renamed.
EX=$SRC/drivers/vswitch/example
cp -a "$SRC/drivers/vswitch/skeleton" "$EX"
for f in "$EX"/*skeleton*; do mv "$f" "${f//skeleton/example}"; done
sed -i 's/skeleton/example/g; s/SKELETON/EXAMPLE/g' "$EX"/*
cat >"$EX/automake.mk" <<'MK'
VSWITCH_DRIVERS += example
orchestrator_liborch_a_SOURCES += \
	drivers/vswitch/example/vswitch-example.c \
	drivers/vswitch/example/vswitch-example.h
MK
sed -i 's|^include drivers/vswitch/skeleton/automake.mk$|&\ninclude drivers/vswitch/example/automake.mk|' \
    "$SRC/drivers/automake.mk"

git -C "$SRC" status --porcelain --untracked-files=all | sort >"$T/changed"
printf '%s\n' ' M drivers/automake.mk' \
    '?? drivers/vswitch/example/automake.mk' \
    '?? drivers/vswitch/example/vswitch-example.c' \
    '?? drivers/vswitch/example/vswitch-example.h' | sort >"$T/expected"
check "only the driver's folder and the driver list change" diff -u "$T/expected" "$T/changed"

B=$T/build
mkdir -p "$B"
check "autoreconf" bash -c "cd '$SRC' && autoreconf -fi >'$T/autoreconf.log' 2>&1"
check "configure" bash -c "cd '$B' && '$SRC/configure' -q CFLAGS=-O0 >'$T/configure.log' 2>&1"
check "the tree builds with the new driver" bash -c \
    "cd '$B' && make -s -j2 drivers/driver-list.h >'$T/make.log' 2>&1 && make -s -j2 orchestrator/c-orch >>'$T/make.log' 2>&1"
check "the driver is in the generated driver list" grep -qx 'VSWITCH_DRIVER(example)' "$B/drivers/driver-list.h"
[ -x "$B/orchestrator/c-orch" ] || { tail -30 "$T/make.log"; e2e_finish; }

# The daemon finds it: its open() answers (the skeleton is not a driver).
mkdir -p "$T/state"
CORCH_ADMIN_PASSWORD=$CORCH_ADMIN_PW timeout 20 "$B/orchestrator/c-orch" --foreground \
    --set rest.port="$(free_port)" --set state.dir="$T/state" \
    --set bus.endpoint="tcp://127.0.0.1:$(free_port)" \
    --set repository.path="$SRC/sf-repository" \
    --set vswitch.driver=example --set compute.drivers=dummy >"$T/run.log" 2>&1
check "vswitch.driver=example reaches the driver's open()" \
    grep -q 'vswitch driver example: the example driver is not a driver' "$T/run.log"
check_not "and is not an unknown driver" grep -q 'unknown driver' "$T/run.log"
# The control: the same daemon with a driver nobody added.
CORCH_ADMIN_PASSWORD=$CORCH_ADMIN_PW timeout 20 "$B/orchestrator/c-orch" --foreground \
    --set rest.port="$(free_port)" --set state.dir="$T/state" \
    --set bus.endpoint="tcp://127.0.0.1:$(free_port)" \
    --set repository.path="$SRC/sf-repository" \
    --set vswitch.driver=nosuch --set compute.drivers=dummy >"$T/run2.log" 2>&1
check "a driver nobody added is unknown" grep -q 'unknown driver "nosuch"' "$T/run2.log"
e2e_finish
