#!/bin/sh
# Records the live captures of tests/corpus/ (http.pcap, tls.pcap) on loopback in a
# private network namespace, so nothing leaves the machine. Run as root from anywhere:
#   sh tests/corpus/live.sh [http|tls]
# lo gets MTU 1500 and no segmentation offload, so segments are Ethernet-sized.
set -e
here=$(cd "$(dirname "$0")" && pwd)
record() { # record OUT COMMAND...
    unshare -n sh -c '
        out=$1; shift
        ip link set lo up && ip link set lo mtu 1500
        ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
        tcpdump -i lo -U -s 0 -w "$out" >/dev/null 2>&1 & td=$!
        sleep 1; "$@"; sleep 0.5; kill $td; wait $td || true' sh "$@"
}
case "${1:-all}" in http|all) record "$here/http.pcap" python3 "$here/http_traffic.py" ;; esac
case "${1:-all}" in tls|all) record "$here/tls.pcap" sh "$here/tls_traffic.sh" ;; esac
