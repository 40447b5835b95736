#!/bin/sh
# TLS 1.3 and 1.2 between openssl s_client and s_server on 127.0.0.1, on port 443 and on
# 4433 (a port tshark knows as TLS only by its heuristic). The 4096-bit certificate does
# not fit one segment, so a record spans two. Run by live.sh.
dir=$(mktemp -d)
openssl req -x509 -newkey rsa:4096 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" \
    -days 3650 -subj "/CN=lab-with-a-longer-name/O=Some Org/OU=unit" >/dev/null 2>&1
for port in 443 4433; do
    for v in -tls1_3 -tls1_2; do
        openssl s_server -accept 127.0.0.1:$port -cert "$dir/cert.pem" -key "$dir/key.pem" \
            $v -quiet -naccept 1 >/dev/null 2>&1 &
        sp=$!
        sleep 0.5
        (echo "hello over tls"; sleep 0.5) |
            openssl s_client -connect 127.0.0.1:$port $v -quiet >/dev/null 2>&1
        sleep 0.3
        kill $sp 2>/dev/null; wait $sp 2>/dev/null
    done
done
rm -r "$dir"
