/* UDP server: waits for one datagram (a student ID and name), prints it, and answers the
 * sender with its own ID and name. No connection, no listen, no accept.
 *
 *   cc -o udp_server udp_server.c && ./udp_server 9999
 *   labrun labs/udp.rhai --server "./udp_server {port}" --source udp_server.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
    int port = argc > 1 ? atoi(argv[1]) : 9999;
    const char *id = getenv("LABRUN_STUDENT_ID");
    const char *name = getenv("LABRUN_STUDENT_NAME");
    char buf[65536], reply[256];
    struct sockaddr_in addr, peer;
    socklen_t peer_len = sizeof peer;
    ssize_t n;
    int sock;

    setvbuf(stdout, NULL, _IOLBF, 0); /* a line at a time, even into a pipe */
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(port);
    if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("bind");
        return 1;
    }
    printf("waiting on UDP port %d\n", port);
    n = recvfrom(sock, buf, sizeof buf - 1, 0, (struct sockaddr *)&peer, &peer_len); /* one datagram, one read */
    if (n < 0) {
        perror("recvfrom");
        return 1;
    }
    buf[n] = '\0';
    printf("received from %s %d : %s\n", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port), buf);
    snprintf(reply, sizeof reply, "%s %s", id ? id : "20215120807", name ? name : "Li Yihang");
    sendto(sock, reply, strlen(reply), 0, (struct sockaddr *)&peer, peer_len);
    close(sock);
    return 0;
}
