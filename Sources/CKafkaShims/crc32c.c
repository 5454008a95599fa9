/* CRC32C for RecordBatch v2.
 *
 * The fast path uses the SSE4.2 crc32 instruction on three independent streams at once: the
 * instruction has a latency of three cycles but a throughput of one, so three streams keep it
 * busy. The streams' results are joined with the identity crc(A||B) = shift(crc(A), |B|) ^ crc(B)
 * (for the un-inverted register), where shift by a fixed length is a linear map on 32 bits,
 * precomputed as four 256-entry tables.
 */
#include "CKafkaShims.h"
#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u /* Castagnoli, reflected */

static uint32_t table8[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table8[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = table8[0][n];
        for (int k = 1; k < 8; k++) {
            c = table8[0][c & 0xff] ^ (c >> 8);
            table8[k][n] = c;
        }
    }
}

/* Updates the un-inverted register, eight bytes a step (slicing-by-8). */
static uint32_t portable_update(uint32_t crc, const unsigned char *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { crc = table8[0][(crc ^ *p++) & 0xff] ^ (crc >> 8); n--; }
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        word ^= crc;
        crc = table8[7][word & 0xff] ^ table8[6][(word >> 8) & 0xff] ^
              table8[5][(word >> 16) & 0xff] ^ table8[4][(word >> 24) & 0xff] ^
              table8[3][(word >> 32) & 0xff] ^ table8[2][(word >> 40) & 0xff] ^
              table8[1][(word >> 48) & 0xff] ^ table8[0][word >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = table8[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}

uint32_t strait_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&table_once, build_tables);
    return ~portable_update(~crc, (const unsigned char *)data, length);
}

#if defined(__x86_64__)
#include <nmmintrin.h>

#define LONG_BLOCK 8192
#define SHORT_BLOCK 256

static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static int hardware = -1;
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

__attribute__((target("sse4.2")))
static uint32_t hw_update_single(uint32_t crc, const unsigned char *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { crc = _mm_crc32_u8(crc, *p++); n--; }
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        n -= 8;
    }
    crc = (uint32_t)c;
    while (n--) crc = _mm_crc32_u8(crc, *p++);
    return crc;
}

/* Fills tables so that shift(c) = register after feeding `length` zero bytes to c. */
static void build_shift(uint32_t table[4][256], size_t length) {
    static const unsigned char zeros[LONG_BLOCK];
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++)
            table[k][b] = hw_update_single(b << (8 * k), zeros, length);
}

static inline uint32_t apply_shift(uint32_t table[4][256], uint32_t c) {
    return table[0][c & 0xff] ^ table[1][(c >> 8) & 0xff] ^ table[2][(c >> 16) & 0xff] ^ table[3][c >> 24];
}

static void detect(void) {
    __builtin_cpu_init();
    hardware = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    if (hardware) {
        build_shift(shift_long, LONG_BLOCK);
        build_shift(shift_short, SHORT_BLOCK);
    }
}

/* Runs three streams over consecutive blocks of `block` bytes and joins them; `block` is a
   multiple of 8 and `shift` the tables for that length. Returns the bytes consumed. */
__attribute__((target("sse4.2")))
static size_t three_streams(uint32_t *crc, const unsigned char *p, size_t n, size_t block, uint32_t shift[4][256]) {
    size_t done = 0;
    while (n - done >= 3 * block) {
        const unsigned char *q = p + done;
        uint64_t c0 = *crc, c1 = 0, c2 = 0;
        for (size_t i = 0; i < block; i += 8) {
            uint64_t w0, w1, w2;
            memcpy(&w0, q + i, 8);
            memcpy(&w1, q + block + i, 8);
            memcpy(&w2, q + 2 * block + i, 8);
            c0 = _mm_crc32_u64(c0, w0);
            c1 = _mm_crc32_u64(c1, w1);
            c2 = _mm_crc32_u64(c2, w2);
        }
        *crc = apply_shift(shift, apply_shift(shift, (uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
        done += 3 * block;
    }
    return done;
}

static uint32_t hw_update(uint32_t crc, const unsigned char *p, size_t n) {
    while (n && ((uintptr_t)p & 7)) { crc = hw_update_single(crc, p, 1); p++; n--; }
    size_t done = three_streams(&crc, p, n, LONG_BLOCK, shift_long);
    done += three_streams(&crc, p + done, n - done, SHORT_BLOCK, shift_short);
    return hw_update_single(crc, p + done, n - done);
}

int strait_crc32c_hardware(void) {
    pthread_once(&hw_once, detect);
    return hardware;
}

uint32_t strait_crc32c_single_stream(uint32_t crc, const void *data, size_t length) {
    if (strait_crc32c_hardware()) return ~hw_update_single(~crc, (const unsigned char *)data, length);
    return strait_crc32c_portable(crc, data, length);
}

uint32_t strait_crc32c(uint32_t crc, const void *data, size_t length) {
    if (strait_crc32c_hardware()) return ~hw_update(~crc, (const unsigned char *)data, length);
    return strait_crc32c_portable(crc, data, length);
}

#else

int strait_crc32c_hardware(void) { return 0; }

uint32_t strait_crc32c_single_stream(uint32_t crc, const void *data, size_t length) {
    return strait_crc32c_portable(crc, data, length);
}

uint32_t strait_crc32c(uint32_t crc, const void *data, size_t length) {
    return strait_crc32c_portable(crc, data, length);
}

#endif
