#!/usr/bin/env python3
"""Captures of the retransmission, crafted-SYN, RST-attack, Nagle and flow-control labs,
made without labrun.

Run inside a network namespace of its own (``unshare -n python3 grade_scenarios.py LAB
PORT OUT``): it brings up that namespace's loopback with an Ethernet-sized MTU and no
segmentation offload, drops segments with its own nftables table, crafts packets with raw
sockets, and records everything with tcpdump into OUT. tests/grade.rs grades the captures.
"""

import socket
import struct
import subprocess
import sys
import threading
import time

LO = "127.0.0.1"


def sh(*args):
    subprocess.run(args, check=True)


def setup_loopback():
    sh("ip", "link", "set", "lo", "up", "mtu", "1500")
    # Without this, the loopback hands ten 1460-byte segments over as one 14600-byte one.
    sh("ethtool", "-K", "lo", "tso", "off", "gso", "off", "gro", "off")


def nft(script):
    subprocess.run(["nft", "-f", "-"], input=script.encode(), check=True)


class Tcpdump:
    def __init__(self, path, bpf):
        self.p = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-n", "-w", path, bpf],
            stderr=subprocess.PIPE,
        )
        # tcpdump says "listening on lo" once it captures; its filter needs a moment more.
        line = self.p.stderr.readline().decode()
        if "listening" not in line:
            raise SystemExit(f"tcpdump did not start: {line}")
        threading.Thread(target=self.p.stderr.read, daemon=True).start()
        time.sleep(0.2)

    def stop(self):
        time.sleep(0.5)
        self.p.send_signal(2)
        self.p.wait(10)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16


def tcp_segment(sport, dport, seq, ack, flags, mss=None, payload=b"", win=64240):
    options = struct.pack("!BBH", 2, 4, mss) if mss else b""
    offset = (20 + len(options)) // 4
    header = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
        offset << 4, flags, win, 0, 0,
    ) + options
    pseudo = socket.inet_aton(LO) * 2 + struct.pack("!BBH", 0, 6, len(header) + len(payload))
    c = checksum(pseudo + header + payload)
    return header[:16] + struct.pack("!H", c) + header[18:] + payload


class Raw:
    """A raw TCP socket: sends hand-made segments and sees every TCP segment on loopback."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.s.settimeout(0.2)

    def send(self, segment):
        self.s.sendto(segment, (LO, 0))

    def next(self, match, seconds):
        """The next segment (sport, dport, seq, ack, flags, payload) that `match` accepts."""
        end = time.time() + seconds
        while time.time() < end:
            try:
                pkt = self.s.recv(65535)
            except socket.timeout:
                continue
            ihl = (pkt[0] & 15) * 4
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", pkt[ihl:ihl + 14])
            seg = (sport, dport, seq, ack, flags, pkt[ihl + (off >> 4) * 4:])
            if match(seg):
                return seg
        raise SystemExit("the expected segment did not come")


def retransmit(port, out, segment):
    """A segment lost twice (the timer recovers it) on `port`, and the `segment`th of ten
    full segments lost once (fast retransmit) on `port + 1`."""
    # numgen counts the data segments that reach each rule's last test (on the loopback
    # conntrack's packet counts run ahead of the receiver, as the sender counts them first).
    nft(f"""table inet scenario {{
  chain input {{
    type filter hook input priority filter - 1; policy accept;
    tcp dport {port} ip length > 100 numgen inc mod 1000000 < 2 drop
    tcp dport {port + 1} ip length > 1000 numgen inc mod 1000000 {segment - 1} drop
  }}
}}""")
    dump = Tcpdump(out, f"tcp portrange {port}-{port + 1}")
    # The timer case without SACK: with it, Linux sends a tail-loss probe before the timer.
    for p, data, sack in ((port, b"20215120807 Li Yihang ".ljust(100, b"a"), "0"),
                          (port + 1, b"20215120807 Li Yihang ".ljust(14600, b"b"), "1")):
        sh("sysctl", "-qw", f"net.ipv4.tcp_sack={sack}")
        listener = socket.create_server((LO, p))
        client = socket.create_connection((LO, p))
        server, _ = listener.accept()
        client.sendall(data)
        got = b""
        while len(got) < len(data):
            got += server.recv(65536)
        assert got == data
        client.close()
        server.recv(16)
        server.close()
        listener.close()
        time.sleep(0.2)
    dump.stop()


def syn_craft(port, out):
    """A crafted SYN answered by SYN-ACK and the kernel's RST; then the same with that RST
    dropped, so the server repeats its SYN-ACK with backoff until a crafted ACK completes
    the handshake."""
    listener = socket.create_server((LO, port))
    raw = Raw()
    dump = Tcpdump(out, f"tcp port {port}")
    sport = 40001
    raw.send(tcp_segment(sport, port, 1000, 0, SYN, mss=1460))
    raw.next(lambda s: s[0] == sport and s[4] & RST, 3)
    sport += 1
    nft(f"""table inet scenario {{
  chain output {{
    type filter hook output priority filter; policy accept;
    tcp sport {sport} tcp flags & rst == rst drop
  }}
}}""")
    raw.send(tcp_segment(sport, port, 5000, 0, SYN, mss=1460))
    synack = lambda s: s[0] == port and s[1] == sport and s[4] & (SYN | ACK) == SYN | ACK
    first = raw.next(synack, 3)
    raw.next(synack, 3)
    raw.next(synack, 4)
    raw.send(tcp_segment(sport, port, 5001, first[2] + 1, ACK))
    listener.settimeout(5)
    conn, _ = listener.accept()
    time.sleep(0.1)
    dump.stop()
    conn.close()


def rst_attack(port, out):
    """Forged RSTs as the server to the client: out of the window (ignored), in the window
    (a challenge ACK, RFC 5961), exactly at the expected sequence number (the reset)."""
    listener = socket.create_server((LO, port))
    raw = Raw()
    dump = Tcpdump(out, f"tcp port {port}")
    client = socket.create_connection((LO, port))
    server, _ = listener.accept()
    cport = client.getsockname()[1]

    def server_says(text):
        """The server sends `text`; the client reads it; the server's next sequence number."""
        server.sendall(text)
        seg = raw.next(lambda s: s[0] == port and s[1] == cport and s[5] == text, 3)
        assert client.recv(64) == text
        return seg[2] + len(text)

    client.sendall(b"20215120807 Li Yihang")
    server.recv(64)
    nxt = server_says(b"Hello Li Yihang")

    def forge(seq):
        raw.send(tcp_segment(port, cport, seq, 0, RST, win=0))
        time.sleep(0.2)

    forge(nxt + (1 << 30))
    nxt = server_says(b"still here")
    forge(nxt + 100)
    nxt = server_says(b"still here again")
    forge(nxt)
    server.sendall(b"after the reset")
    time.sleep(0.3)
    dump.stop()
    client.close()
    server.close()


def nagle(port, out):
    """Write-write-read requests: with Nagle's algorithm on `port`, with TCP_NODELAY on
    `port + 1`."""
    dump = Tcpdump(out, f"tcp portrange {port}-{port + 1}")
    for p, nodelay in ((port, 0), (port + 1, 1)):
        listener = socket.create_server((LO, p))
        client = socket.create_connection((LO, p))
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, nodelay)
        server, _ = listener.accept()
        for r in range(6):
            client.sendall(f"H{r} 20215120807 ".ljust(32, "h").encode())
            client.sendall(f"BODY {r} ".ljust(32, "b").encode())
            got = b""
            while len(got) < 64:
                got += server.recv(64 - len(got))
            server.sendall(f"OK {r} ".ljust(32, "o").encode())
            back = b""
            while len(back) < 32:
                back += client.recv(32 - len(back))
        client.close()
        server.recv(16)
        server.close()
        listener.close()
    dump.stop()


def flow_control(port, out):
    """A server with a small receive buffer that reads nothing for 2.5 s while the client
    sends 60000 bytes."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    listener.bind((LO, port))
    listener.listen()
    dump = Tcpdump(out, f"tcp port {port}")
    client = socket.create_connection((LO, port))
    server, _ = listener.accept()
    data = b"20215120807 Li Yihang ".ljust(60000, b"w")
    sender = threading.Thread(target=client.sendall, args=(data,))
    sender.start()
    time.sleep(2.5)
    got = b""
    while len(got) < len(data):
        got += server.recv(65536)
    sender.join()
    assert got == data
    client.close()
    server.recv(16)
    server.close()
    dump.stop()


def main():
    lab, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    setup_loopback()
    if lab == "retransmit":
        retransmit(port, out, int(sys.argv[4]) if len(sys.argv) > 4 else 3)
    elif lab == "syn_craft":
        syn_craft(port, out)
    elif lab == "rst_attack":
        rst_attack(port, out)
    elif lab == "nagle":
        nagle(port, out)
    elif lab == "flow_control":
        flow_control(port, out)
    else:
        raise SystemExit(f"unknown scenario {lab}")


if __name__ == "__main__":
    main()
