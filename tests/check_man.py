#!/usr/bin/env python3
"""A program's man page (doc/PROGRAM.1) against the program itself.

usage: check_man.py PAGE PROGRAM VERSION

Checks that
  * the page renders without a single warning: groff -man -Tutf8 -ww -z
    exits 0 and prints nothing;
  * .TH names the program and "libvtevents VERSION", NAME reads
    "PROGRAM \\- ...", and the page has the sections NAME, SYNOPSIS,
    DESCRIPTION, OPTIONS, EXIT STATUS, ENVIRONMENT, EXAMPLES and SEE ALSO;
  * PROGRAM --help exits 0 and starts with "usage: PROGRAM";
  * the options the usage text defines (the option column of its lines
    "  -x ...", "  --name ...", indented 2 to 8 spaces) and the options the page defines (the .TP
    tags of its OPTIONS sections) are the same: every option of either is
    in the other, so that the two cannot drift apart.
"""
import os
import re
import shutil
import subprocess
import sys

SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "ENVIRONMENT",
            "EXAMPLES", "SEE ALSO"]
OPT = r"--?[A-Za-z][A-Za-z0-9-]*"
# "  -h, --help   ...", "  -q / -v   ...", "  --db DB   ...": the option column
HELP_LINE = re.compile(r"^ {2,8}((?:%s)(?:(?:, | / )(?:%s))*)" % (OPT, OPT))


def help_options(text):
    opts = set()
    for line in text.splitlines():
        m = HELP_LINE.match(line)
        if m:
            opts.update(re.findall(OPT, m.group(1)))
    return opts


def plain(troff):
    """A line of troff source as text: no font escapes, \\- as -."""
    s = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", troff)
    s = s.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\")
    return s


def page_sections(lines):
    """{title: [lines]} of the .SH sections."""
    out, cur = {}, None
    for line in lines:
        if line.startswith(".SH"):
            cur = line[3:].strip().strip('"')
            out[cur] = []
        elif cur is not None:
            out[cur].append(line)
    return out


def page_options(sections):
    """The options in the .TP tags of every section whose title ends in OPTIONS."""
    opts = set()
    for title, lines in sections.items():
        if not title.endswith("OPTIONS"):
            continue
        for i, line in enumerate(lines[:-1]):
            if line.startswith(".TP"):
                tag = lines[i + 1]
                if tag.startswith("."):  # the font macro (.B, .BI, .BR, ...)
                    tag = tag.split(None, 1)[1] if " " in tag else ""
                opts.update(re.findall(r"(?<![A-Za-z0-9-])" + OPT, plain(tag)))
    return opts


def main():
    page, prog, version = sys.argv[1:4]
    name = os.path.basename(page)[:-2]
    fails = []

    groff = shutil.which("groff")
    if not groff:
        print("FAIL: groff not found (Debian package groff-base)")
        return 1
    r = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", page], capture_output=True,
                       text=True)
    if r.returncode != 0 or r.stderr:
        fails.append("groff -man -Tutf8 -ww -z %s: exit %d\n%s" % (page, r.returncode,
                                                                 r.stderr.rstrip()))

    with open(page, encoding="utf-8") as f:
        lines = f.read().splitlines()
    th = lines[0] if lines else ""
    m = re.match(r'^\.TH (\S+) 1 "[^"]*" "libvtevents ([^"]*)"', th)
    if not m or m.group(1) != name.upper():
        fails.append(".TH %s: want .TH %s 1 \"...\" \"libvtevents %s\"" % (th, name.upper(),
                                                                           version))
    elif m.group(2) != version:
        fails.append(".TH says libvtevents %s, the project is %s" % (m.group(2), version))
    sections = page_sections(lines)
    for s in SECTIONS:
        if s not in sections:
            fails.append("no .SH %s section" % s)
    name_lines = [l for l in sections.get("NAME", []) if l.strip()]
    if not name_lines or not name_lines[0].startswith(name + " \\- "):
        fails.append("NAME: want \"%s \\- ...\", got %r" % (name, name_lines[:1]))

    r = subprocess.run([prog, "--help"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or not r.stdout.startswith("usage: " + name):
        fails.append("%s --help: exit %d, output starts %r" % (name, r.returncode,
                                                              r.stdout[:40]))
    in_help = help_options(r.stdout)
    in_page = page_options(sections)
    if not any(o.startswith("--") for o in in_help):
        fails.append("no long option found in %s --help (the parser is wrong?)" % name)
    for o in sorted(in_help - in_page):
        fails.append("%s --help has %s, the man page's OPTIONS do not" % (name, o))
    for o in sorted(in_page - in_help):
        fails.append("the man page's OPTIONS have %s, %s --help does not" % (o, name))

    for f in fails:
        print("FAIL: %s: %s" % (page, f))
    print("%s: %d options (%s), %d failures" % (name, len(in_help),
                                               " ".join(sorted(in_help)), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
