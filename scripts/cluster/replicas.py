"""Where every replica of some objects, containers and accounts is, node by
node, as Swift's own code sees it (run through swift_exec.py, so that the
hash path salt is the cluster's):

    <swift-venv>/bin/python swift_exec.py ETC/swift.conf replicas.py ETC DEVICES_JSON < QUERY

QUERY (JSON on stdin): {"objects": [[account, container, object], ...],
                        "containers": [[account, container], ...],
                        "accounts": [account, ...]}
DEVICES_JSON: {"sdb1": "/path/node1", ...}, the devices directory holding
each ring device.
Prints JSON: for each object "a/c/o" and each of its primary devices, the
files of its hash directory on that device (the ring's partition, Swift's
hash_path) as Swift's DiskFileManager.get_ondisk_files sorts them:
{"current": ["1796691692.25950.data"], "obsolete": [...], "all": [...]}.
Obsolete files (an older .data beside a newer .ts a replicator just copied
in) stay until Swift next rehashes that suffix; for each container "a/c" and
account "a", on each primary device, the names its server lists (a direct
GET to that node's container or account server, which reads its database),
or the HTTP status when it has none.
"""

import json
import os
import sys

from swift.common import direct_client
from swift.common.exceptions import ClientException
from swift.common.ring import Ring
from swift.common.storage_policy import POLICIES
from swift.common.utils import hash_path, get_logger
from swift.obj.diskfile import DiskFileManager


def object_files(ring, manager, devices, account, container, obj):
    part, nodes = ring.get_nodes(account, container, obj)
    name_hash = hash_path(account, container, obj)
    out = {}
    for node in nodes:
        d = os.path.join(devices[node["device"]], node["device"], "objects", str(part),
                         name_hash[-3:], name_hash)
        files = sorted(os.listdir(d)) if os.path.isdir(d) else []
        sets = manager.get_ondisk_files(files, d, policy=POLICIES.legacy)
        current = sorted({os.path.basename(sets[k]) for k in ("data_file", "ts_file",
                                                              "meta_file", "ctype_file")
                          if sets.get(k)})
        obsolete = sorted(os.path.basename(i["filename"]) for i in sets.get("obsolete", []))
        out[node["device"]] = {"current": current, "obsolete": obsolete, "all": files}
    return out


def listing(ring, path, get):
    part, nodes = ring.get_nodes(*path)
    out = {}
    for node in nodes:
        try:
            _, items = get(node, part, *path, conn_timeout=2, response_timeout=10)
            out[node["device"]] = [i["name"] for i in items]
        except ClientException as e:
            out[node["device"]] = e.http_status
        except OSError as e:
            out[node["device"]] = str(e)
    return out


def main():
    etc, devices = sys.argv[1], json.loads(sys.argv[2])
    query = json.load(sys.stdin)
    obj_ring = Ring(etc, ring_name="object")
    cont_ring = Ring(etc, ring_name="container")
    acct_ring = Ring(etc, ring_name="account")
    manager = DiskFileManager({"mount_check": "false"}, get_logger({}, log_route="replicas"))
    result = {"objects": {}, "containers": {}, "accounts": {}}
    for a, c, o in query.get("objects", []):
        result["objects"][f"{a}/{c}/{o}"] = object_files(obj_ring, manager, devices, a, c, o)
    for a, c in query.get("containers", []):
        result["containers"][f"{a}/{c}"] = listing(
            cont_ring, (a, c),
            lambda node, part, a, c, **kw: direct_client.direct_get_container(
                node, part, a, c, **kw))
    for a in query.get("accounts", []):
        result["accounts"][a] = listing(
            acct_ring, (a,),
            lambda node, part, a, **kw: direct_client.direct_get_account(node, part, a, **kw))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
