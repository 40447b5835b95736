# UDP client: sends the line typed at the keyboard (your student ID and name) in one
# datagram and prints the answer.
#
#   labrun labs/udp.rhai --client "python3 examples/programs/python/udp_client.py {server_ip} {port}"
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 9999

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(5)
print("type your student ID and name:")
message = input()
sock.sendto(message.encode(), (host, port))  # no handshake: the data is the first packet
answer, server = sock.recvfrom(65535)
print("the server answered:", answer.decode())
sock.close()
