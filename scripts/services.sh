#!/usr/bin/env bash
# Start Redis and RabbitMQ when they do not answer (DEVELOPERS.md). Tests never skip
# because a server is down: this script fails loudly instead.
set -euo pipefail

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 6379; then
  echo "services: starting redis-server"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! port_open 5672; then
  echo "services: starting rabbitmq-server"
  rabbitmq-server -detached || true
fi
for i in $(seq 1 120); do
  if port_open 6379 && port_open 5672; then
    echo "services: redis :6379 and rabbitmq :5672 answer"
    # The vhost of credential propagation (DEFAULT_AMQP_VHOST). Like the original, the
    # library never creates it; the broker's config does (here: for the tests).
    if ! rabbitmqctl -q list_vhosts 2>/dev/null | grep -qx hmac-credentials; then
      for j in $(seq 1 30); do
        rabbitmqctl -q add_vhost hmac-credentials >/dev/null 2>&1 && break
        rabbitmqctl -q list_vhosts 2>/dev/null | grep -qx hmac-credentials && break
        sleep 1
      done
    fi
    rabbitmqctl -q set_permissions -p hmac-credentials guest ".*" ".*" ".*" >/dev/null
    echo "services: rabbitmq vhost hmac-credentials ready"
    exit 0
  fi
  sleep 1
done
port_open 6379 || echo "services: redis did not come up on :6379" >&2
port_open 5672 || echo "services: rabbitmq did not come up on :5672" >&2
exit 1
