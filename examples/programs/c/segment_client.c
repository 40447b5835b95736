/* TCP client that sends 2950 bytes in one call (twice the 1460-byte MSS plus 30): the
 * kernel, not the program, cuts them into segments. It starts with your ID and name.
 *
 *   cc -o segment_client segment_client.c
 *   labrun labs/segment.rhai --client "./segment_client {server_ip} {port}" --source segment_client.c
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
    const char *host = argc > 1 ? argv[1] : "127.0.0.1";
    int port = argc > 2 ? atoi(argv[2]) : 8888;
    const char *id = getenv("LABRUN_STUDENT_ID");
    const char *name = getenv("LABRUN_STUDENT_NAME");
    char data[2950], buf[1024];
    struct sockaddr_in addr;
    int sock, len;

    memset(data, 'x', sizeof data);
    len = snprintf(buf, sizeof buf, "%s %s ", id ? id : "20215120807", name ? name : "Li Yihang");
    memcpy(data, buf, (size_t)len);
    sock = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, host, &addr.sin_addr);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }
    send(sock, data, sizeof data, 0); /* one send of 2950 bytes */
    printf("sent %zu bytes in one send\n", sizeof data);
    shutdown(sock, SHUT_WR);
    while (recv(sock, buf, sizeof buf, 0) > 0)
        ;
    close(sock);
    return 0;
}
