#!/usr/bin/env python3
"""secure_txn_acls.py ADMIN_PROPERTIES ACL_FILE - creates the transactional-id
lines of ACL_FILE (scripts/stack/secure-acls.txt) as ALLOW ACLs from any host,
with the Python peer's Admin API (confluent-kafka).

vt-stack-probe creates the file's other lines, but Debian 12's librdkafka
2.0.2 has no TransactionalId resource type in its Admin API; confluent-kafka's
bundled librdkafka has.  ADMIN_PROPERTIES is a libvtevents properties file
(bootstrap.servers, kafka.*), as scripts/stack.sh up --secure writes them.
Exit 0 when every ACL was created (or the file has none), 1 otherwise, with
the line or the broker's error on stderr."""
import sys

from confluent_kafka.admin import (AclBinding, AclOperation, AclPermissionType, AdminClient,
                                   ResourcePatternType, ResourceType)


def main():
    props, path = sys.argv[1:3]
    conf = {}
    for line in open(props, encoding="utf-8"):
        k, _, v = line.strip().partition("=")
        if k.startswith("kafka."):
            conf[k[6:]] = v
        elif k == "bootstrap.servers":
            conf[k] = v
    acls = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        f = line.split()
        if not f or f[0].startswith("#") or len(f) != 5 or f[1] != "transactional-id":
            continue
        who, _, pattern, name, ops = f
        pt = {"literal": ResourcePatternType.LITERAL, "prefixed": ResourcePatternType.PREFIXED}.get(pattern)
        if pt is None:
            sys.exit("%s:%d: pattern %r (literal, prefixed) unknown" % (path, n, pattern))
        for op in ops.split(","):
            if op not in AclOperation.__members__:
                sys.exit("%s:%d: operation %r unknown" % (path, n, op))
            acls.append(AclBinding(ResourceType.TRANSACTIONAL_ID, name, pt, "User:" + who, "*",
                                   AclOperation[op], AclPermissionType.ALLOW))
    if not acls:
        return 0
    failed = 0
    admin = AdminClient(conf)  # kept: the futures fail with _DESTROY once it is freed
    for acl, fut in admin.create_acls(acls, request_timeout=15).items():
        try:
            fut.result()
        except Exception as e:  # the broker's refusal, named with its ACL
            print("secure_txn_acls.py: %s: %s" % (acl, e), file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
