// The push ceiling of this machine: an HTTP/1.1 server that does only what a registry's
// upload must do with the bytes (receive, SHA-256, write to a new file) and nothing else, so
// that `kura bench push` against it says how fast one stream can go here, beside the same
// client. Not a registry: it answers every POST and PATCH with 202 and a fixed Location and
// every PUT with 201, and checks no digest.
//
//   sink MODE PART_KIB PORT DIR
//   MODE 0: one thread receives a part, hashes it, writes it, in turn.
//   MODE 2: three threads: one receives into a ring of four parts, one hashes, one writes.
//
// Built and run by push-ceiling.sh. Needs libssl-dev (OpenSSL's EVP SHA-256, as Kura uses).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/evp.h>

#define RING 4

static int mode;
static size_t part_size;
static unsigned char *parts[RING];
static size_t lengths[RING];  // 0 ends the body
static long offsets[RING];
static sem_t filled, hashed, freed;
static int file;
static EVP_MD_CTX *hash;

static void *hasher(void *unused) {
    for (int i = 0;; i = (i + 1) % RING) {
        sem_wait(&filled);
        if (lengths[i] > 0) EVP_DigestUpdate(hash, parts[i], lengths[i]);
        sem_post(&hashed);
        if (lengths[i] == 0) return unused;
    }
}

static void *writer(void *unused) {
    for (int i = 0;; i = (i + 1) % RING) {
        sem_wait(&hashed);
        if (lengths[i] == 0) return unused;
        if (pwrite(file, parts[i], lengths[i], offsets[i]) != (ssize_t)lengths[i]) { perror("pwrite"); exit(1); }
        sem_post(&freed);
    }
}

// Reads the body of `length` bytes; `pending` holds `have` bytes already read past the head.
static int receive_body(int connection, long length, char *pending, size_t *have) {
    pthread_t threads[2];
    sem_init(&filled, 0, 0);
    sem_init(&hashed, 0, 0);
    sem_init(&freed, 0, RING);
    if (mode == 2) {
        pthread_create(&threads[0], 0, hasher, 0);
        pthread_create(&threads[1], 0, writer, 0);
    }
    long received = 0;
    int slot = 0;
    while (received < length) {
        if (mode == 2) sem_wait(&freed);
        unsigned char *part = parts[slot];
        size_t want = part_size < (size_t)(length - received) ? part_size : (size_t)(length - received);
        size_t fill = *have < want ? *have : want;
        memcpy(part, pending, fill);
        memmove(pending, pending + fill, *have - fill);
        *have -= fill;
        while (fill < want) {
            ssize_t n = recv(connection, part + fill, want - fill, 0);
            if (n <= 0) return -1;
            fill += (size_t)n;
        }
        if (mode == 0) {
            EVP_DigestUpdate(hash, part, fill);
            if (pwrite(file, part, fill, received) != (ssize_t)fill) { perror("pwrite"); exit(1); }
        } else {
            lengths[slot] = fill;
            offsets[slot] = received;
            sem_post(&filled);
            slot = (slot + 1) % RING;
        }
        received += (long)fill;
    }
    if (mode == 2) {
        sem_wait(&freed);
        lengths[slot] = 0;
        sem_post(&filled);
        pthread_join(threads[0], 0);
        pthread_join(threads[1], 0);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: sink MODE PART_KIB PORT DIR\n"); return 2; }
    mode = atoi(argv[1]);
    part_size = (size_t)atol(argv[2]) << 10;
    int port = atoi(argv[3]);
    const char *directory = argv[4];
    for (int i = 0; i < RING; i++) parts[i] = malloc(part_size);
    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 64)) { perror("listen"); return 1; }
    static char pending[1 << 16];
    unsigned long blobs = 0;
    for (;;) {
        int connection = accept(listener, 0, 0);
        if (connection < 0) continue;
        setsockopt(connection, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        size_t have = 0;
        for (;;) {  // requests on one keep-alive connection
            char *end;
            while (!(end = memmem(pending, have, "\r\n\r\n", 4))) {
                ssize_t n = have < sizeof pending ? recv(connection, pending + have, sizeof pending - have, 0) : -1;
                if (n <= 0) goto closed;
                have += (size_t)n;
            }
            *end = 0;  // the head as a string, for the searches below
            size_t head_length = (size_t)(end + 4 - pending);
            const char *found = strcasestr(pending, "\r\ncontent-length:");
            long length = found ? atol(found + 17) : 0;
            int is_put = strncmp(pending, "PUT ", 4) == 0;
            if (strcasestr(pending, "\r\nexpect: 100-continue")) send(connection, "HTTP/1.1 100 Continue\r\n\r\n", 25, 0);
            memmove(pending, pending + head_length, have - head_length);
            have -= head_length;
            if (length > 0) {
                char path[4096];
                snprintf(path, sizeof path, "%s/blob.%lu", directory, blobs++);
                file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (file < 0) { perror(path); return 1; }
                hash = EVP_MD_CTX_new();
                EVP_DigestInit_ex(hash, EVP_sha256(), 0);
                int failed = receive_body(connection, length, pending, &have);
                unsigned char digest[32];
                unsigned int digest_length;
                EVP_DigestFinal_ex(hash, digest, &digest_length);
                EVP_MD_CTX_free(hash);
                close(file);
                unlink(path);
                if (failed) goto closed;
            }
            const char *answer = is_put
                ? "HTTP/1.1 201 Created\r\nLocation: /v2/ceiling/blobs/sha256:0\r\nContent-Length: 0\r\n\r\n"
                : "HTTP/1.1 202 Accepted\r\nLocation: /v2/ceiling/blobs/uploads/0\r\nRange: 0-0\r\nContent-Length: 0\r\n\r\n";
            send(connection, answer, strlen(answer), 0);
        }
    closed:
        close(connection);
    }
}
