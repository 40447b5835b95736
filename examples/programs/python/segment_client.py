# TCP client that sends 2950 bytes in one call (twice the 1460-byte MSS plus 30): the
# kernel, not the program, cuts them into segments. It starts with your ID and name.
#
#   labrun labs/segment.rhai --client "python3 examples/programs/python/segment_client.py {server_ip} {port}"
import os
import socket
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8888
me = os.environ.get("LABRUN_STUDENT_ID", "20215120807") + " " + os.environ.get("LABRUN_STUDENT_NAME", "Li Yihang")

data = (me + " ").encode()
data = data + b"x" * (2950 - len(data))

client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client.connect((host, port))
client.sendall(data)  # one send of 2950 bytes
print("sent", len(data), "bytes in one send")
client.shutdown(socket.SHUT_WR)
while client.recv(1024):
    pass
client.close()
