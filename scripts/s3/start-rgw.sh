#!/usr/bin/env bash
# A tested recipe, carried in the project so that a fresh clone can run the S3 tests.
# Single-node Ceph (1 mon, 1 memstore OSD, no mgr, auth=none) + radosgw/beast
# on 127.0.0.1:$RGW_PORT. Idempotent: no-op if the endpoint already answers,
# otherwise (re)creates a fresh cluster. Needs root (apt) on Debian 12.
set -euo pipefail
DIR=${RGW_DIR:-${TMPDIR:-/tmp}/rgw-test}
PORT=${RGW_PORT:-7480}
AK=${S3_ACCESS_KEY:-CIACCESSKEY000000000}
SK=${S3_SECRET_KEY:-CIsecretkey0000000000000000000000000000000}
OSD_STORE=${OSD_STORE:-memstore}          # or bluestore (file-backed)
export CEPH_CONF=$DIR/ceph.conf
HERE=$(cd "$(dirname "$0")" && pwd)

up() { [[ $(curl -s -m 2 "http://127.0.0.1:$PORT/") == *ListAllMyBucketsResult* ]]; }
if up; then echo "rgw already up on 127.0.0.1:$PORT"; exit 0; fi

if ! command -v radosgw >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v ceph-mon >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    radosgw ceph-mon ceph-osd curl uuid-runtime >/dev/null
fi

"$HERE/stop-rgw.sh"                     # leftovers of a dead run
mkdir -p "$DIR"/{run,log,mon/a,osd/0}
FSID=$(uuidgen)

cat > "$CEPH_CONF" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:3300,v1:127.0.0.1:6789]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
client mount timeout = 30
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
# mon commits maps every 1 s by default: each new pool then costs ~2 s
paxos propose interval = 0.1
paxos min wait = 0.01
mon data avail warn = 1
mon data avail crit = 0
mon warn on insecure global id reclaim allowed = false
[mon]
mon data = $DIR/mon/\$id
[osd]
osd data = $DIR/osd/\$id
osd objectstore = $OSD_STORE
memstore device bytes = 4294967296
bluestore block create = true
bluestore block size = 10737418240
osd memory target = 939524096
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$PORT
rgw thread pool size = 64
# reclaim deleted objects quickly (default: 2 h), matters with memstore
rgw gc obj min wait = 10
rgw gc processor period = 10
# rgw defaults to "secure", which cannot work with auth=none
ms mon client mode = crc
EOF

monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]" "$DIR/monmap" >/dev/null
ceph-mon -i a --mkfs --monmap "$DIR/monmap"
ceph-mon -i a

OSD_UUID=$(uuidgen)
OSD_ID=$(ceph osd new "$OSD_UUID")           # -> 0
ceph-osd -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>>"$DIR/log/mkfs.log"
ceph-osd -i "$OSD_ID" 2>>"$DIR/log/stderr.log"
osd_up() { [[ $(ceph osd dump 2>/dev/null) == *"osd.$OSD_ID up"* ]]; }
for i in $(seq 60); do osd_up && break; sleep 0.5; done
osd_up || { echo "osd did not come up, see $DIR/log" >&2; exit 1; }

radosgw-admin user create --uid=ci --display-name=CI \
  --access-key="$AK" --secret-key="$SK" >/dev/null
radosgw -n client.rgw.a
for i in $(seq 120); do up && break; sleep 0.5; done
up || { echo "radosgw did not come up, see $DIR/log" >&2; exit 1; }
echo "S3 endpoint http://127.0.0.1:$PORT  access=$AK  secret=$SK"
