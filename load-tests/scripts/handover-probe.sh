#!/bin/bash
# Usage: load-tests/scripts/handover-probe.sh <viewers> <label> (after mvn -DskipTests package, with
# the local Cassandra node running on 9042): two server instances on 127.0.0.1:50061 and
# 127.0.0.2:50061, then HandoverProbe, which stops the first (SIGTERM); logs in /tmp.
set -u
V=$1; LABEL=$2
cd "$(dirname "$0")/../.."
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
J="$JAVA_HOME/bin/java --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
export WATCHPARTY_AUTH_DEMO=true WATCHPARTY_CATALOG_DEMO=true WATCHPARTY_AUTH_SECRET=$SECRET \
  WATCHPARTY_CASSANDRA_KEYSPACE=watchparty_handover WATCHPARTY_GRPC_PORT=50061 WATCHPARTY_OBSERVE_PORT=-1 \
  WATCHPARTY_ROOM_COMMANDRATE=1000 WATCHPARTY_ROOM_COMMANDBURST=1000
WATCHPARTY_GRPC_HOST=127.0.0.1 $J -Xmx1g -cp "server/target/classes:$(cat server/target/classpath.txt)" io.watchparty.server.Main > /tmp/handover-a-$LABEL.log 2>&1 &
A=$!
for i in $(seq 1 120); do grep -q "listening" /tmp/handover-a-$LABEL.log && break; sleep 1; done
WATCHPARTY_GRPC_HOST=127.0.0.2 $J -Xmx1g -cp "server/target/classes:$(cat server/target/classpath.txt)" io.watchparty.server.Main > /tmp/handover-b-$LABEL.log 2>&1 &
B=$!
for i in $(seq 1 120); do grep -q "listening" /tmp/handover-b-$LABEL.log && break; sleep 1; done
echo "loadavg at start: $(cat /proc/loadavg)"
$J -Xmx1g -cp "load-tests/target/classes:$(cat load-tests/target/classpath.txt)" io.watchparty.loadtest.HandoverProbe \
  --target 127.0.0.1:50061 --secret $SECRET --owner-pid $A --viewers $V 2>&1 | grep -v " INFO \| DEBUG "
echo "probe rc=${PIPESTATUS[0]}"
wait $A 2>/dev/null
grep -E "Handed|Stopped in|ERROR" /tmp/handover-a-$LABEL.log | cut -c1-160
kill $B; wait $B 2>/dev/null
grep -c ERROR /tmp/handover-b-$LABEL.log
