#!/usr/bin/python3
"""Writes the index of an SF repository, so that it can be served by any
static web server as a remote repository (repository.url).

    mkindex.py REPO            write REPO/index.json
    mkindex.py --check REPO    exit 1 if REPO/index.json is not up to date

The index lists the template files of REPO/templates/, sorted:

    {"format": 1, "templates": ["bridge-native.json", "nat-native.json"]}

c-orch fetches <url>/index.json, then <url>/templates/<name> for each
name, then the images at the templates' "uri" (relative to <url>, or
absolute http(s) URLs).  See docs/sf-repository.md.
"""

import argparse
import json
import os
import re
import sys

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\.json$")


def index_of(repo):
    tdir = os.path.join(repo, "templates")
    names = sorted(n for n in os.listdir(tdir)
                   if NAME.match(n) and os.path.isfile(os.path.join(tdir, n)))
    text = json.dumps({"format": 1, "templates": names}, indent=2) + "\n"
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("repo")
    a = ap.parse_args()
    want = index_of(a.repo)
    path = os.path.join(a.repo, "index.json")
    if a.check:
        try:
            have = open(path).read()
        except OSError:
            have = None
        if have != want:
            print(f"{path} is not up to date: run sf-repository/mkindex.py "
                  f"{a.repo}", file=sys.stderr)
            return 1
        return 0
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(want)
    os.rename(tmp, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
