/* UDP client: sends the line typed at the keyboard (your student ID and name) in one
 * datagram and prints the answer.
 *
 *   cc -o udp_client udp_client.c && ./udp_client 127.0.0.1 9999
 *   labrun labs/udp.rhai --client "./udp_client {server_ip} {port}" --source udp_client.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 9999;
    char line[1024], answer[65536];
    struct sockaddr_in server;
    struct timeval timeout = {5, 0};
    ssize_t n;
    int sock;

    setvbuf(stdout, NULL, _IOLBF, 0);
    sock = socket(AF_INET, SOCK_DGRAM, 0);
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    memset(&server, 0, sizeof server);
    server.sin_family = AF_INET;
    server.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
        fprintf(stderr, "not an IPv4 address: %s\n", host);
        return 1;
    }
    printf("type your student ID and name:\n");
    if (!fgets(line, sizeof line, stdin)) {
        return 1;
    }
    line[strcspn(line, "\n")] = '\0';
    /* no handshake: the data is the first packet */
    sendto(sock, line, strlen(line), 0, (struct sockaddr *)&server, sizeof server);
    n = recvfrom(sock, answer, sizeof answer - 1, 0, NULL, NULL);
    if (n < 0) {
        perror("recvfrom");
        return 1;
    }
    answer[n] = '\0';
    printf("the server answered: %s\n", answer);
    close(sock);
    return 0;
}
