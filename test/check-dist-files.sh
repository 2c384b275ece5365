#!/bin/sh
# Checks that every file git tracks is in the distribution (the tarball's
# directory) or is listed as not shipped, and names each file that is
# neither; also names a "not shipped" entry that git no longer tracks or
# that ships after all.  Run by "make dist" (its dist-hook, so distcheck
# too) and by "make check-dist-files":
#     test/check-dist-files.sh SRCDIR DISTDIR [NOT-SHIPPED-FILE]...
# Outside a git checkout (a build from the tarball) it says so and passes.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 SRCDIR DISTDIR [NOT-SHIPPED-FILE]..." >&2; exit 2; }
srcdir=$1
distdir=$2
shift 2
me=check-dist-files

# The source dir must be the top of a checkout (.git, a directory or a
# worktree's file), not a directory that happens to sit inside one (a
# tarball unpacked in a build dir).
if [ ! -e "$srcdir/.git" ]; then
    echo "$me: $srcdir is not a git checkout: skipped"
    exit 0
fi
if ! command -v git >/dev/null 2>&1; then
    echo "$me: git absent: skipped"
    exit 0
fi
# A checkout that git refuses to read (another owner: safe.directory)
# fails rather than passes unchecked.
top=$(cd "$srcdir" && git rev-parse --show-toplevel) ||
    { echo "$me: git cannot read the checkout in $srcdir" >&2; exit 2; }
if [ "$(cd "$top" && pwd -P)" != "$(cd "$srcdir" && pwd -P)" ]; then
    echo "$me: $srcdir is not the top of its git checkout: skipped"
    exit 0
fi
[ -d "$distdir" ] || { echo "$me: no distribution directory $distdir" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-dist-files.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$srcdir" && git -c core.quotepath=off ls-files) | LC_ALL=C sort -u >"$tmp/tracked"
(cd "$distdir" && find . \( -type f -o -type l \) -print) | sed 's|^\./||' |
    LC_ALL=C sort -u >"$tmp/shipped"
for f in "$@"; do echo "$f"; done | LC_ALL=C sort -u >"$tmp/not-shipped"

LC_ALL=C comm -23 "$tmp/tracked" "$tmp/shipped" |
    LC_ALL=C comm -23 - "$tmp/not-shipped" >"$tmp/missing"
{
    LC_ALL=C comm -13 "$tmp/tracked" "$tmp/not-shipped"
    LC_ALL=C comm -12 "$tmp/shipped" "$tmp/not-shipped"
} >"$tmp/stale"

rc=0
if [ -s "$tmp/missing" ]; then
    echo "$me: tracked by git but not in the tarball (add each to EXTRA_DIST"
    echo "$me: or a dist_*_DATA in its directory's automake.mk, or to"
    echo "$me: DIST_NOT_SHIPPED in Makefile.am):"
    sed 's/^/    /' "$tmp/missing"
    rc=1
fi
if [ -s "$tmp/stale" ]; then
    echo "$me: listed in DIST_NOT_SHIPPED but untracked or shipped anyway:"
    sed 's/^/    /' "$tmp/stale"
    rc=1
fi
[ $rc = 0 ] && echo "$me: all $(wc -l <"$tmp/tracked") tracked files ship or are listed as not shipped"
exit $rc
