#!/usr/bin/env bash
# One-shot step before the broker's first start (docker-compose.yml, service kafka-format):
# formats the KRaft storage with the SCRAM-SHA-512 users already in it.
#
# Why a separate step: SCRAM users live in the cluster metadata, and before the first start
# there is no broker to create them through; the only way in is `kafka-storage format
# --add-scram`. The apache/kafka image formats the storage itself on start but has no way to
# add users, and it skips formatting when the volume is already formatted: so this runs first,
# on the same volume, and the image's own step then finds the storage ready.
#
# Reads (from the environment, never from the repository): CLUSTER_ID,
# KAFKA_CONTROLLER_QUORUM_VOTERS, MODSTREAM_KAFKA_BROKER_PASSWORD (the broker's own user),
# MODSTREAM_KAFKA_USERNAME / MODSTREAM_KAFKA_PASSWORD (the pipeline's user).
set -euo pipefail

KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
data="${KAFKA_LOG_DIRS:-/var/lib/kafka/data}"

die() { printf '[kafka-format] error: %s\n' "$*" >&2; exit 1; }

# Credentials end up inside a SCRAM argument and the broker's JAAS string.
check() {  # name value
  [[ "$2" =~ ^[A-Za-z0-9._~+/-]{1,256}$ ]] || die "$1 must be 1-256 characters from A-Z a-z 0-9 . _ ~ + / -"
}

if [ -f "$data/meta.properties" ]; then
  echo "[kafka-format] $data is already formatted; users are managed in the cluster from now on"
  exit 0
fi
: "${CLUSTER_ID:?set CLUSTER_ID}"
: "${KAFKA_CONTROLLER_QUORUM_VOTERS:?set KAFKA_CONTROLLER_QUORUM_VOTERS}"
check MODSTREAM_KAFKA_BROKER_PASSWORD "${MODSTREAM_KAFKA_BROKER_PASSWORD:-}"
check MODSTREAM_KAFKA_USERNAME "${MODSTREAM_KAFKA_USERNAME:-}"
check MODSTREAM_KAFKA_PASSWORD "${MODSTREAM_KAFKA_PASSWORD:-}"

# Only what formatting reads: the node, the quorum and where the data goes. The broker's full
# configuration comes from the KAFKA_* variables of the kafka service.
conf="$(mktemp)"
trap 'rm -f "$conf"' EXIT
cat >"$conf" <<EOF
process.roles=broker,controller
node.id=${KAFKA_NODE_ID:-1}
controller.quorum.voters=$KAFKA_CONTROLLER_QUORUM_VOTERS
controller.listener.names=CONTROLLER
listeners=CLIENT://:9092,CONTROLLER://:9093
listener.security.protocol.map=CONTROLLER:PLAINTEXT,CLIENT:SASL_PLAINTEXT
inter.broker.listener.name=CLIENT
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
log.dirs=$data
EOF

"$KAFKA_HOME/bin/kafka-storage.sh" format --cluster-id "$CLUSTER_ID" --config "$conf" \
  --add-scram "SCRAM-SHA-512=[name=modstream-broker,password=$MODSTREAM_KAFKA_BROKER_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=$MODSTREAM_KAFKA_USERNAME,password=$MODSTREAM_KAFKA_PASSWORD]" \
  | grep -v -i 'storedKey' || true
[ -f "$data/meta.properties" ] || die "formatting $data failed"
echo "[kafka-format] formatted $data with SCRAM users modstream-broker and $MODSTREAM_KAFKA_USERNAME"
