# UDP server: waits for one datagram (a student ID and name), prints it, and answers the
# sender with its own ID and name. No connection, no listen, no accept.
#
#   labrun labs/udp.rhai --server "python3 examples/programs/python/udp_server.py {port}"
import os
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
me = os.environ.get("LABRUN_STUDENT_ID", "20215120807") + " " + os.environ.get("LABRUN_STUDENT_NAME", "Li Yihang")

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("", port))
print("waiting on UDP port", port)
data, sender = sock.recvfrom(65535)  # one datagram, one read
print("received from", sender[0], sender[1], ":", data.decode())
sock.sendto(me.encode(), sender)
sock.close()
