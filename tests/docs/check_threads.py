#!/usr/bin/env python3
"""Every documented public function says from which thread it may be called.

Reads the XML that Doxygen wrote for the public headers (GENERATE_XML) and
reports each function that is not static inline and has no @remark naming
threads ("Thread-safe.", "Polling thread only.", "Not thread-safe on the same
buffer.", ...).  Doxygen itself checks @param and @returns.
Usage: check_threads.py XML_DIR
"""
import os
import sys
import xml.etree.ElementTree as ET


def remark_text(memberdef):
    texts = []
    for sect in memberdef.iter("simplesect"):
        if sect.get("kind") == "remark":
            texts.append("".join(sect.itertext()))
    return " ".join(texts)


def main():
    xml_dir = sys.argv[1]
    missing = []
    count = 0
    for name in sorted(os.listdir(xml_dir)):
        if not name.endswith("_8h.xml"):
            continue
        compound = ET.parse(os.path.join(xml_dir, name)).getroot().find("compounddef")
        if compound is None or compound.get("kind") != "file":
            continue
        header = compound.findtext("compoundname")
        for member in compound.iter("memberdef"):
            if member.get("kind") != "function" or member.get("static") == "yes":
                continue
            count += 1
            if "thread" not in remark_text(member).lower():
                loc = member.find("location")
                where = "%s:%s" % (loc.get("file"), loc.get("line")) if loc is not None else header
                missing.append("%s: %s has no @remark that names its thread(s)"
                               % (where, member.findtext("name")))
    for line in missing:
        print(line)
    if count == 0:
        print("no functions found in %s: is GENERATE_XML on?" % xml_dir)
        return 1
    print("%d functions, %d without a thread remark" % (count, len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
