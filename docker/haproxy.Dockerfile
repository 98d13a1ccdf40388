# HAProxy from Debian's own package, in front of the revgate replicas (compose.replicas.yaml).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && rm -rf /var/lib/apt/lists/*
USER haproxy
EXPOSE 8000
# -W: master-worker (reloads on SIGUSR2); -db: stay in the foreground, logs to stdout.
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
