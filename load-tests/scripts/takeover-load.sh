#!/bin/bash
# Usage: load-tests/scripts/takeover-load.sh <viewers> <kills> <label> [TakeoverLoad options...]
# (after mvn -DskipTests package): a 3-node ring on 127.0.0.1-3 (CQL 9242, storage 7200, data in
# /tmp/takeover-ring, started fresh and stopped at the end), then TakeoverLoad, which runs three
# server instances on it and kills the owner of its room <kills> times. Output in
# /tmp/takeover-<label>.txt; instance logs in /tmp/takeover-<label>/.
set -u
V=$1; K=$2; LABEL=$3; shift 3
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
J="$JAVA_HOME/bin/java --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
# The run's own copy of the classes: a build during the run (which empties target/classes) must not
# break the instances it starts again.
CLASSES=/tmp/takeover-$LABEL-classes
rm -rf "$CLASSES" && mkdir -p "$CLASSES" && cp -r server/target/classes "$CLASSES/server" \
  && cp -r load-tests/target/classes "$CLASSES/load-tests" || exit 1
SERVER_CP="$CLASSES/server:$(cat server/target/classpath.txt)"
HOSTS=(127.0.0.1 127.0.0.2 127.0.0.3)
TOKENS=(-9223372036854775808 -3074457345618258603 3074457345618258602)
RING=/tmp/takeover-ring
node() { # index start|stop
  WATCHPARTY_CASSANDRA_LOCAL_HOST=${HOSTS[$1]} WATCHPARTY_CASSANDRA_LOCAL_SEEDS=${HOSTS[0]} \
  WATCHPARTY_CASSANDRA_LOCAL_TOKEN=${TOKENS[$1]} WATCHPARTY_CASSANDRA_LOCAL_PORT=9242 \
  WATCHPARTY_CASSANDRA_LOCAL_STORAGEPORT=7200 WATCHPARTY_CASSANDRA_LOCAL_DIRECTORY=$RING/node$1 \
  WATCHPARTY_CASSANDRA_LOCAL_HEAP=512M \
    $J -Dwatchparty.cassandra.local.jars=$PWD/server/local-cassandra/target/lib -cp "$SERVER_CP" \
      io.watchparty.server.store.LocalCassandraCommand "$2"
}
rm -rf "$RING"
for i in 0 1 2; do node $i start || exit 1; done
echo "loadavg at start: $(cat /proc/loadavg)" | tee /tmp/takeover-$LABEL.txt
$J -Xmx2g -cp "$CLASSES/load-tests:$(cat load-tests/target/classpath.txt)" io.watchparty.loadtest.TakeoverLoad \
  --cassandra 127.0.0.1:9242,127.0.0.2:9242,127.0.0.3:9242 --server-classpath "$SERVER_CP" \
  --logs /tmp/takeover-$LABEL --viewers "$V" --kills "$K" "$@" 2>&1 | grep --line-buffered -v " INFO \| DEBUG " | tee -a /tmp/takeover-$LABEL.txt
echo "rc=${PIPESTATUS[0]}; loadavg at end: $(cat /proc/loadavg)" | tee -a /tmp/takeover-$LABEL.txt
grep -l " ERROR " /tmp/takeover-$LABEL/*.log 2>/dev/null | sed 's/^/ERROR lines in /'
for i in 2 1 0; do node $i stop; done
