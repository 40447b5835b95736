#!/usr/bin/env python3
"""Writes the hand-built capture files of tests/corpus/ (run from that folder).

Each frame is built byte by byte with correct checksums; tests/tshark_corpus.rs compares
every field labrun lists with tshark on these files.
"""
import struct


def write(path, frames, linktype=1, snaplen=65535):
    out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack('<IIII', 1000 + i, 0, min(len(f), snaplen), len(f)) + f[:snaplen]
    open(path, 'wb').write(out)


# ICMPv6: echo, neighbour discovery, errors quoting a datagram, every type's name.
def csum(data):
    if len(data)%2: data+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(data)//2),data))
    while s>>16: s=(s&0xffff)+(s>>16)
    return (~s)&0xffff
def ip6(a): 
    import ipaddress; return ipaddress.IPv6Address(a).packed
MA=bytes([2,0,0,0,0,0x0a]); MB=bytes([2,0,0,0,0,0x0b])
def icmp6(src,dst,typ,code,body,hlim=64,dmac=MB,smac=MA):
    s=ip6(src); d=ip6(dst)
    msg=bytes([typ,code,0,0])+body
    ph=s+d+struct.pack('!I',len(msg))+b'\0\0\0'+bytes([58])
    c=csum(ph+msg)
    msg=msg[:2]+struct.pack('!H',c)+msg[4:]
    ip=struct.pack('!IHBB',0x60000000,len(msg),58,hlim)+s+d
    return dmac+smac+b'\x86\xdd'+ip+msg
fr=[]
fr.append(icmp6('fe80::1','fe80::2',128,0,struct.pack('!HH',0x1234,1)+b'abcdefgh'))
fr.append(icmp6('fe80::2','fe80::1',129,0,struct.pack('!HH',0x1234,1)+b'abcdefgh',dmac=MA,smac=MB))
# NS target fe80::2 with SLL option
fr.append(icmp6('fe80::1','ff02::1:ff00:2',135,0,b'\0'*4+ip6('fe80::2')+bytes([1,1])+MA,hlim=255,dmac=bytes([0x33,0x33,0xff,0,0,2])))
# NA sol+ovr target fe80::2 with TLL
fr.append(icmp6('fe80::2','fe80::1',136,0,bytes([0x60,0,0,0])+ip6('fe80::2')+bytes([2,1])+MB,hlim=255,dmac=MA,smac=MB))
# NA router flag no option
fr.append(icmp6('fe80::2','fe80::1',136,0,bytes([0xe0,0,0,0])+ip6('fe80::2'),hlim=255,dmac=MA,smac=MB))
# RS with SLL
fr.append(icmp6('fe80::1','ff02::2',133,0,b'\0'*4+bytes([1,1])+MA,hlim=255,dmac=bytes([0x33,0x33,0,0,0,2])))
# RS no option
fr.append(icmp6('::','ff02::2',133,0,b'\0'*4,hlim=255,dmac=bytes([0x33,0x33,0,0,0,2])))
# RA with SLL
fr.append(icmp6('fe80::2','ff02::1',134,0,bytes([64,0])+struct.pack('!H',1800)+b'\0'*8+bytes([1,1])+MB,hlim=255,dmac=bytes([0x33,0x33,0,0,0,1]),smac=MB))
# dest unreachable port, quoting ipv6 udp
inner=struct.pack('!IHBB',0x60000000,13,17,64)+ip6('fe80::1')+ip6('fe80::2')+struct.pack('!HHHH',40000,7777,13,0)+b'hello'
fr.append(icmp6('fe80::2','fe80::1',1,4,b'\0'*4+inner,dmac=MA,smac=MB))
fr.append(icmp6('fe80::2','fe80::1',1,3,b'\0'*4+inner,dmac=MA,smac=MB))
fr.append(icmp6('fe80::2','fe80::1',1,1,b'\0'*4+inner,dmac=MA,smac=MB))
fr.append(icmp6('fe80::2','fe80::1',3,0,b'\0'*4+inner,dmac=MA,smac=MB))
fr.append(icmp6('fe80::2','fe80::1',2,0,struct.pack('!I',1280)+inner,dmac=MA,smac=MB))
fr.append(icmp6('fe80::2','fe80::1',4,1,struct.pack('!I',6)+inner,dmac=MA,smac=MB))
# MLDv2 report: 1 record
rec=bytes([4,0])+struct.pack('!H',0)+ip6('ff02::1:ff00:1')
fr.append(icmp6('fe80::1','ff02::16',143,0,struct.pack('!HH',0,1)+rec,hlim=1,dmac=bytes([0x33,0x33,0,0,0,0x16])))
# echo request unmatched different id
fr.append(icmp6('2001:db8::1','2001:db8::2',128,0,struct.pack('!HH',0xbeef,7)))
fr.append(icmp6('fe80::1','fe80::2',137,0,b'\0'*4+ip6('fe80::3')+ip6('fe80::4')))
inner=struct.pack('!IHBB',0x60000000,13,17,64)+ip6('fe80::1')+ip6('fe80::2')+struct.pack('!HHHH',40000,7777,13,0)+b'hello'
for t,codes in [(1,range(0,9)),(2,[0]),(3,[0,1,2]),(4,[0,1,2,3])]:
    for c in codes: fr.append(icmp6('fe80::2','fe80::1',t,c,b'\0'*4+inner))
for t in [x for x in list(range(128,160))+[100,200,255,5,127] if x not in (138,143,145)]:
    fr.append(icmp6('fe80::1','fe80::2',t,0,b'\0'*4+b'\0'*24))
for fl in [0,0x80,0x40,0x20,0xa0,0xc0]:
    fr.append(icmp6('fe80::2','fe80::1',136,0,bytes([fl,0,0,0])+ip6('fe80::2'),hlim=255))
fr.append(icmp6('fe80::1','fe80::2',129,0,struct.pack('!HH',5,5)))
fr.append(icmp6('fe80::1','fe80::2',135,0,b'\0'*4+ip6('fe80::2'),hlim=255))
write('icmpv6.pcap', fr)

# DNS and mDNS: queries, answers of several types, errors, a malformed message.
def name(n):
    if n=='': return b'\0'
    return b''.join(bytes([len(l)])+l.encode() for l in n.split('.'))+b'\0'
def q(n,t,c=1): return name(n)+struct.pack('!HH',t,c)
def rr(n,t,data,ttl=300,c=1):
    nb = name(n) if isinstance(n,str) else n
    return nb+struct.pack('!HHIH',t,c,ttl,len(data))+data
def dns(id,flags,qs,ans=[],auth=[],add=[]):
    return struct.pack('!HHHHHH',id,flags,len(qs),len(ans),len(auth),len(add))+b''.join(qs)+b''.join(ans)+b''.join(auth)+b''.join(add)
def csum(data):
    if len(data)%2: data+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(data)//2),data))
    while s>>16: s=(s&0xffff)+(s>>16)
    return (~s)&0xffff
MA=bytes([2,0,0,0,0,0x0a]); MB=bytes([2,0,0,0,0,0x0b])
def udp4(sp,dp,payload,src=b'\x0a\0\0\x01',dst=b'\x0a\0\0\x02'):
    u=struct.pack('!HHHH',sp,dp,8+len(payload),0)+payload
    ip=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(u),1,0,64,17,0,src,dst)
    ip=ip[:10]+struct.pack('!H',csum(ip))+ip[12:]
    return MB+MA+b'\x08\x00'+ip+u
A4=lambda a: bytes(map(int,a.split('.')))
fr=[]
fr.append(udp4(40000,53,dns(0x1234,0x0100,[q('example.com',1)])))
fr.append(udp4(53,40000,dns(0x1234,0x8180,[q('example.com',1)],[rr(b'\xc0\x0c',1,A4('93.184.216.34'))]),src=b'\x0a\0\0\x02',dst=b'\x0a\0\0\x01'))
fr.append(udp4(40001,53,dns(0x2222,0x0100,[q('www.example.com',28)],add=[rr('',41,b'',ttl=0,c=1232)])))
v6=bytes([0x26,0x06,0x28,0,0x02,0x20,0,1,0x2,0x48,0x18,0x93,0x25,0xc8,0x19,0x46])
fr.append(udp4(53,40001,dns(0x2222,0x8180,[q('www.example.com',28)],[rr(b'\xc0\x0c',5,name('example.com')),rr('example.com',28,v6)],add=[rr('',41,b'',ttl=0,c=1232)]),src=b'\x0a\0\0\x02',dst=b'\x0a\0\0\x01'))
soa=name('a.iana-servers.net')+name('noc.dns.icann.org')+struct.pack('!IIIII',1,2,3,4,5)
fr.append(udp4(53,40002,dns(0x3333,0x8183,[q('nope.example.com',1)],[],[rr(b'\xc0\x11',6,soa)]),src=b'\x0a\0\0\x02',dst=b'\x0a\0\0\x01'))
fr.append(udp4(40003,53,dns(0x4444,0x0100,[q('34.216.184.93.in-addr.arpa',12)])))
fr.append(udp4(53,40003,dns(0x4444,0x8180,[q('34.216.184.93.in-addr.arpa',12)],[rr(b'\xc0\x0c',12,name('host.example.com'))]),src=b'\x0a\0\0\x02',dst=b'\x0a\0\0\x01'))
fr.append(udp4(53,40004,dns(0x5555,0x8180,[q('example.com',15)],[rr(b'\xc0\x0c',15,struct.pack('!H',10)+name('mail.example.com')),rr(b'\xc0\x0c',16,b'\x05hello'),rr(b'\xc0\x0c',33,struct.pack('!HHH',1,2,443)+name('srv.example.com'))]),src=b'\x0a\0\0\x02',dst=b'\x0a\0\0\x01'))
fr.append(udp4(40005,53,dns(0x6666,0x0100,[q('example.com',65)])))
fr.append(udp4(53,40005,dns(0x6666,0x8182,[q('example.com',65)]),src=b'\x0a\0\0\x02',dst=b'\x0a\0\0\x01'))
fr.append(udp4(5353,5353,dns(0,0x0000,[q('_services._dns-sd._udp.local',12)]),dst=A4('224.0.0.251')))
fr.append(udp4(40006,53,dns(0x7777,0x0100,[q('example.com',1),q('example.org',28)])))
fr.append(udp4(40007,53,dns(0x8888,0x2800,[q('example.com',6)])))
fr.append(udp4(40008,53,b'\x12\x34\x01'))
fr.append(udp4(53,40009,dns(0x9999,0x8580,[q('example.com',2)],[rr(b'\xc0\x0c',2,name('ns1.example.com'))]),src=b'\x0a\0\0\x02',dst=b'\x0a\0\0\x01'))
fr.append(udp4(40010,53,dns(0xaaaa,0x0100,[q('example.com',255)])))
fr.append(udp4(40011,53,dns(0xbbbb,0x0100,[q('example.com',999)])))
write('dns.pcap', fr)

# TCP: SYN+FIN segments (one sequence number between the two flags, as tcp.nxtseq counts).
def tcp4(sp, dp, seq, ack, flags, payload=b'', src=b'\x0a\0\0\x01', dst=b'\x0a\0\0\x02'):
    t = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 1000, 0, 0) + payload
    ph = src + dst + struct.pack('!BBH', 0, 6, len(t))
    t = t[:16] + struct.pack('!H', csum(ph + t)) + t[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(t), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return MB + MA + b'\x08\x00' + ip + t


write('syn-fin.pcap', [
    tcp4(1000, 2000, 100, 0, 0x03),
    tcp4(1001, 2000, 100, 0, 0x03, b'abc'),
    tcp4(2000, 1000, 500, 104, 0x12, src=b'\x0a\0\0\x02', dst=b'\x0a\0\0\x01'),
])

# Apple PKTAP (LINKTYPE 258): a 108-byte little-endian header naming interface and
# process, then the Ethernet frame.
def pktap(frame, ifname=b'en0', pid=4242, comm=b'curl'):
    h = struct.pack('<III24sIIIII17s', 108, 1, 1, ifname, 0, 2, 0, 0, pid, comm)
    h += b'\0' * (108 - len(h))
    return h + frame


write('pktap.pcap', [
    pktap(tcp4(50000, 80, 7000, 0, 0x02)),
    pktap(tcp4(80, 50000, 9000, 7001, 0x12, src=b'\x0a\0\0\x02', dst=b'\x0a\0\0\x01')),
    pktap(tcp4(50000, 80, 7001, 9001, 0x10)),
], linktype=258)

# IPv4 fragment trains that cannot be reassembled (a later fragment is missing), whole
# and cut by a 96-byte snap length: tshark decodes the TCP or UDP header of a first
# fragment it cannot hand to reassembly (the capture holds only part of it).
def ip4frag(proto, ident, off8, mf, data, src=b'\x0a\0\0\x01', dst=b'\x0a\0\0\x02'):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(data), ident, (0x2000 if mf else 0) | off8, 64, proto, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return MB + MA + b'\x08\x00' + ip + data


def udp_dgram(sp, dp, payload, src=b'\x0a\0\0\x01', dst=b'\x0a\0\0\x02'):
    u = struct.pack('!HHHH', sp, dp, 8 + len(payload), 0) + payload
    c = csum(src + dst + struct.pack('!BBH', 0, 17, len(u)) + u)
    return u[:6] + struct.pack('!H', c) + u[8:]


def tcp_seg(sp, dp, seq, ack, flags, payload, src=b'\x0a\0\0\x01', dst=b'\x0a\0\0\x02'):
    t = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 1000, 0, 0) + payload
    c = csum(src + dst + struct.pack('!BBH', 0, 6, len(t)) + t)
    return t[:16] + struct.pack('!H', c) + t[18:]


u = udp_dgram(40000, 7777, bytes(range(256)) * 12)   # 3080 bytes
t = tcp_seg(40001, 9999, 1000, 0, 0x18, bytes(range(256)) * 12)
write('fragments.pcap', [
    ip4frag(17, 0x100, 0, True, u[:1480]),            # first of three, the second never comes
    ip4frag(17, 0x100, 370, False, u[2960:]),
    ip4frag(6, 0x200, 0, True, t[:1480]),             # TCP, only the first fragment
    ip4frag(17, 0x300, 0, True, u[:16]),              # UDP header and 8 bytes
    ip4frag(6, 0x400, 0, True, t[:8]),                # only TCP's ports and sequence number
    ip4frag(17, 0x500, 0, True, u[:1480]),            # a train that completes
    ip4frag(17, 0x500, 185, True, u[1480:2960]),
    ip4frag(17, 0x500, 370, False, u[2960:]),
])
write('fragments-cut.pcap', [
    ip4frag(17, 0x100, 0, True, u[:1480]),
    ip4frag(17, 0x100, 370, False, u[2960:]),
    ip4frag(6, 0x200, 0, True, t[:1480]),
    ip4frag(6, 0x200, 185, False, t[1480:]),
    ip4frag(17, 0x300, 0, True, u[:16]),
    ip4frag(6, 0x400, 0, True, t[:8]),
], snaplen=96)

# ACKs past segments the capture missed ("ACKed unseen segment"), repeated past the same
# gap, with data and duplicate ACKs between them; and ACKs of data never sent.
A, B = b'\x0a\0\0\x01', b'\x0a\0\0\x02'
def a2b(sp, dp, seq, ack, flags, payload=b''):
    return tcp4(sp, dp, seq, ack, flags, payload)
def b2a(sp, dp, seq, ack, flags, payload=b''):
    return tcp4(sp, dp, seq, ack, flags, payload, src=B, dst=A)
fr = []
for base, (sp, dp) in enumerate([(1000, 2000), (1001, 2000)]):
    fr += [a2b(sp, dp, 100, 0, 0x02), b2a(dp, sp, 500, 101, 0x12), a2b(sp, dp, 101, 501, 0x10)]
    fr.append(a2b(sp, dp, 101, 501, 0x18, b'x' * 100))
    if base == 0:
        # 201..300 is not captured
        fr.append(a2b(sp, dp, 301, 501, 0x18, b'y' * 100))
    fr.append(b2a(dp, sp, 501, 401, 0x10))
    fr.append(b2a(dp, sp, 501, 401, 0x10))
    fr.append(b2a(dp, sp, 501, 401, 0x18, b'z' * 50))
    fr.append(b2a(dp, sp, 551, 401, 0x10))
    fr.append(a2b(sp, dp, 401, 551, 0x18, b'w' * 10))
    fr.append(b2a(dp, sp, 551, 411, 0x10))
    fr.append(b2a(dp, sp, 551, 600, 0x10))
    fr.append(b2a(dp, sp, 551, 700, 0x10))
def a(seq, ack, fl, p=b''): fr.append(a2b(sp, 2000, seq, ack, fl, p))
def b(seq, ack, fl, p=b''): fr.append(b2a(2000, sp, seq, ack, fl, p))
def opening():
    a(100, 0, 2); b(500, 101, 0x12); a(101, 501, 0x10); a(101, 501, 0x18, b'x' * 100)
# ACKs climbing past data never sent: reported once.
sp = 3000; opening()
for k in [301, 400, 500, 600, 700]:
    b(501, k, 0x10)
# The same with the other side's data (spurious retransmissions) in between.
sp = 3001; opening()
b(501, 301, 0x10); a(201, 501, 0x18, b'y' * 10); b(501, 400, 0x10); b(501, 500, 0x10)
a(211, 501, 0x18, b'y' * 10); b(501, 600, 0x10); b(501, 700, 0x10)
# Data carrying the climbing ACKs.
sp = 3002; opening()
for i, k in enumerate([301, 400, 500, 600]):
    b(501 + 5 * i, k, 0x18, b'q' * 5)
# A gap in the data, then ACKs past it: reported until the boundary stops moving.
sp = 3003; opening()
a(301, 501, 0x18, b'x' * 100); b(501, 401, 0x10); b(501, 500, 0x10); b(501, 600, 0x10)
a(401, 501, 0x18, b'z' * 10); b(501, 411, 0x10); b(501, 700, 0x10); b(501, 800, 0x10)
write('ack-unseen.pcap', fr)

# Frames a strict decoder would call malformed that tshark decodes: ARP with other
# hardware and protocol address sizes, an IPv4 total length of 0 (a TSO super-packet
# captured before segmentation) and an IPv4 total length beyond the frame.
def arp(op, htype, ptype, hlen, plen, sha, spa, tha, tpa):
    body = struct.pack('!HHBBH', htype, ptype, hlen, plen, op) + sha + spa + tha + tpa
    return b'\xff' * 6 + MA + b'\x08\x06' + body


def ip4_raw(total_len, proto, l4):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, total_len, 7, 0x4000, 64, proto, 0, A, B)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return MB + MA + b'\x08\x00' + ip + l4


seg_data = tcp_seg(40100, 5001, 1, 1, 0x18, b'd' * 40)
write('lenient.pcap', [
    arp(1, 1, 0x0800, 8, 4, b'\x02' * 8, A, b'\0' * 8, B),
    arp(2, 1, 0x0800, 6, 16, MA, b'\x20\x01' + b'\0' * 13 + b'\x01', MB, b'\x20\x01' + b'\0' * 13 + b'\x02'),
    arp(1, 6, 0x0800, 6, 4, MA, A, b'\0' * 6, B),
    arp(1, 32, 0x0800, 20, 4, b'\x01' * 20, A, b'\0' * 20, B),
    arp(1, 1, 0x0800, 0, 4, b'', A, b'', B),
    ip4_raw(0, 6, seg_data),
    ip4_raw(0, 17, udp_dgram(40101, 5002, b'u' * 30)),
    ip4_raw(2000, 6, seg_data),
    ip4_raw(2000, 17, udp_dgram(40102, 5003, b'u' * 30)),
    ip4_raw(10, 6, seg_data),
])

# An HTTP response whose body spans segments that arrive out of order, with a hole
# filled before or after the end, never filled, and a retransmission: which segment
# tshark shows as the response, and which as [TCP segment of a reassembled PDU].
fr = []
def cl(seq, ack, fl, p=b''): fr.append(tcp4(sp, 80, seq, ack, fl, p))
def sv(seq, ack, fl, p=b''): fr.append(tcp4(80, sp, seq, ack, fl, p, src=B, dst=A))
get = b'GET /f HTTP/1.1\r\nHost: lab\r\n\r\n'
resp = b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3000\r\n\r\n' + bytes(3000)
ack = 1 + len(get)
parts = [(1 + i, resp[i:i + 1000]) for i in range(0, len(resp), 1000)]
for sp, order, then in [(50000, [0, 2, 1, 3], True), (50001, [0, 1, 3, 2], False),
                        (50002, [0, 1, 3], True), (50003, [0, 1, 1, 2, 3], False)]:
    cl(0, 0, 2); sv(0, 1, 0x12); cl(1, 1, 0x10); cl(1, 1, 0x18, get); sv(1, ack, 0x10)
    for i in order:
        sv(parts[i][0], ack, 0x18, parts[i][1])
    cl(ack, 1 + len(resp), 0x10)
    if then:
        sv(1 + len(resp), ack, 0x18, b'HTTP/1.1 204 No Content\r\n\r\n')
write('http-loss.pcap', fr)

# TLS records on port 443 against tshark's framing: an alert in the clear, data after a
# record, a Client Hello too short for its fields, a record header split over two
# segments, and application data records spanning segments.
fr = []
def cl(seq, ack, fl, p=b''): fr.append(tcp4(sp, 443, seq, ack, fl, p))
def sv(seq, ack, fl, p=b''): fr.append(tcp4(443, sp, seq, ack, fl, p, src=B, dst=A))
def opening():
    cl(0, 0, 2); sv(0, 1, 0x12); cl(1, 1, 0x10)
sp = 50001; opening()
cl(1, 1, 0x18, bytes([0x15, 3, 3, 0, 2, 2, 40]))
sv(1, 8, 0x18, bytes([0x17, 3, 3, 0, 3, 1, 2, 3]) + b'junk')
sp = 50002; opening()
cl(1, 1, 0x18, bytes([0x16, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0]))
sp = 50003; opening()
cl(1, 1, 0x18, bytes([0x16, 3, 1])); cl(4, 1, 0x18, bytes([0, 8, 1, 0, 0, 4, 3, 3, 0, 0]))
rec = bytes([0x17, 3, 3, 0x0b, 0xb8]) + bytes(3000)
sp = 50004; opening()
cl(1, 1, 0x18, rec[:1000]); cl(1001, 1, 0x18, rec[1000:2000])
cl(2001, 1, 0x18, rec[2000:] + bytes([0x17, 3, 3, 0, 2, 1, 1]))
sp = 50005; opening()
cl(1, 1, 0x18, bytes([0x17, 3, 3, 0, 2, 1, 1]) + rec[:1000]); cl(1008, 1, 0x18, rec[1000:])
write('tls-records.pcap', fr)

# ICMP errors quoting TCP: tshark's TCP finds the quoted segment's conversation or opens
# one (taking the next tcp.stream), except inside a redirect, whose quote it reads only as
# far as the ports and sequence number.
def icmp4_error(typ, code, quoted, gateway=b'\0\0\0\0', src=b'\x0a\0\0\x02', dst=b'\x0a\0\0\x01'):
    body = struct.pack('!BBH4s', typ, code, 0, gateway) + quoted
    body = body[:2] + struct.pack('!H', csum(body)) + body[4:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), 7, 0, 64, 1, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return MB + MA + b'\x08\x00' + ip + body
def quoted_tcp(sp, dp, seq, cut=None):
    ip_tcp = tcp4(sp, dp, seq, 0, 0x02)[14:]
    return ip_tcp if cut is None else ip_tcp[:20 + cut]
write('icmp-quoted-tcp.pcap', [
    tcp4(50000, 80, 1000, 0, 0x02),
    icmp4_error(3, 3, quoted_tcp(50010, 81, 2000)),
    tcp4(50020, 80, 3000, 0, 0x02),
    icmp4_error(3, 3, quoted_tcp(50000, 80, 1000)),
    icmp4_error(5, 1, quoted_tcp(50030, 82, 4000, cut=8), gateway=b'\x0a\0\0\x03'),
    tcp4(50040, 80, 5000, 0, 0x02),
    tcp4(50030, 82, 4000, 0, 0x02),
])
# HTTP on port 8888, which only tshark's heuristic (http_tcp) finds: a first line that
# starts with or ends in HTTP/1. and ends within its segment, tried on every segment
# until one passes; then WebSocket after a 101, with frames of every opcode, masked and
# not, fragmented messages, frames sharing a segment or spanning segments.
import struct as _st
def wsf(op, payload=b'', fin=True, mask=None, rsv=0):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126: h = bytes([b0, m | n])
    elif n < 65536: h = bytes([b0, m | 126]) + _st.pack('!H', n)
    else: h = bytes([b0, m | 127]) + _st.pack('!Q', n)
    if mask:
        payload = bytes(x ^ mask[i % 4] for i, x in enumerate(payload)); h += mask
    return h + payload
class Conn:
    def __init__(s, sp, dp=8888):
        s.sp, s.dp, s.c, s.s = sp, dp, 1, 1
        fr.extend([tcp4(sp, dp, 0, 0, 2), tcp4(dp, sp, 0, 1, 0x12, src=B, dst=A), tcp4(sp, dp, 1, 1, 0x10)])
    def cl(s, p):
        fr.append(tcp4(s.sp, s.dp, s.c, s.s, 0x18, p)); s.c += len(p)
    def sv(s, p):
        fr.append(tcp4(s.dp, s.sp, s.s, s.c, 0x18, p, src=B, dst=A)); s.s += len(p)
fr = []
M = b'\x11\x22\x33\x44'
c = Conn(40001); c.cl(b'GET / HTTP/1.1\r\nHost: a\r\n\r\n'); c.sv(b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi')
c.sv(b'\x81abc'); c.cl(b'xyz')
c = Conn(40002); c.cl(b'FOO / HTTP/1.1\r\n\r\n'); c.cl(b'GET / HTTP/1.1\r\n\r\n')
c = Conn(40003); c.cl(b'hello\r\n'); c.cl(b'GET / HTTP/1.1\r\n\r\n'); c.cl(b'more\r\n')
c = Conn(40004); c.sv(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); c.cl(b'xyz\r\n')
c = Conn(40005); c.cl(b'GET / HTTP/1.1'); c.cl(b'GET / HTTP/2.0\r\n\r\n'); c.cl(b'HTTP/1.1\r\n\r\n')
c.cl(b'XGET / HTTP/1.1 \r\n\r\n'); c.cl(b'GET / http/1.1\n\n')
c = Conn(40006); c.cl(b'GET / HTTP/1.1\r\nHost: a\r\n'); c.cl(b'\r\n')
c = Conn(40007); c.sv(b'http/1.0 200 OK\r\n\r\n')
REQ = (b'GET /chat HTTP/1.1\r\nHost: lab:8888\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
       b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')
RESP = (b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
        b'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n')
c = Conn(40011); c.cl(REQ); c.sv(RESP)
c.cl(wsf(1, b'hello', mask=M)); c.sv(wsf(1, b'hello'))
c.cl(wsf(1, b'frag', fin=False, mask=M)); c.cl(wsf(0, b'ment', fin=False, mask=M)); c.cl(wsf(0, b'ed', mask=M))
c.sv(wsf(2, b'\x00\x01', fin=False)); c.sv(wsf(0, b'\x02'))
c.cl(wsf(2, bytes(300), mask=M)); c.sv(wsf(2, bytes(200)))
c.cl(wsf(9, b'p', mask=M)); c.sv(wsf(10, b'p')); c.sv(wsf(9)); c.cl(wsf(10, mask=M))
c.cl(wsf(1, b'a', mask=M) + wsf(1, b'b', mask=M))
f = wsf(1, b'x' * 50); c.sv(f[:1]); c.sv(f[1:])
f = wsf(2, bytes(3000)); c.sv(f[:1000]); c.sv(f[1000:2000]); c.sv(f[2000:] + wsf(1, b'after'))
f = bytes([0x82, 0xff]) + _st.pack('!Q', 10) + M + bytes(10); c.cl(f[:5]); c.cl(f[5:])
c.cl(wsf(3, b'r', mask=M)); c.sv(wsf(11, b'r')); c.sv(wsf(1, b'rsv', rsv=0x40))
c.cl(wsf(1, b'\xff\xfe', mask=M)); c.sv(wsf(1, b'{"a":1}'))
c.cl(wsf(8, _st.pack('!H', 1000) + b'bye', mask=M)); c.sv(wsf(8, _st.pack('!H', 1000))); c.sv(wsf(8))
c = Conn(40012); c.cl(REQ); c.sv(RESP + wsf(1, b'early')); c.cl(wsf(1, b'x', mask=M))
c = Conn(40013); c.cl(b'GET / HTTP/1.1\r\nHost: a\r\n\r\n'); c.sv(RESP); c.sv(wsf(1, b'hi'))
c = Conn(40014, 80); c.cl(REQ); c.sv(RESP); c.cl(wsf(1, b'hi', mask=M)); c.sv(wsf(8))
c = Conn(40015); c.cl(REQ); c.sv(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'); c.sv(wsf(1, b'hi'))
write('http-websocket.pcap', fr)
