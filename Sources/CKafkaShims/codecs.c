/* Kafka's compression codecs.
 *
 * gzip uses the system zlib, linked at build time. lz4, zstd and snappy are bound at run time
 * with dlopen from their runtime packages (liblz4.so.1, libzstd.so.1, libsnappy.so.1), so Strait
 * builds on a machine without their -dev packages and reports a clear error when one is
 * missing and a batch needs it (docs/compression.md). Only the stable C entry points are
 * declared here, with the types their ABIs have had for a decade.
 */
#include "CKafkaShims.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- run-time binding ------------------------------------------------------------------ */

typedef struct { void *dst; size_t size; size_t pos; } zstd_out_buffer;
typedef struct { const void *src; size_t size; size_t pos; } zstd_in_buffer;

static struct {
    size_t (*compress_bound)(size_t);
    size_t (*compress)(void *, size_t, const void *, size_t, int);
    unsigned (*is_error)(size_t);
    void *(*create_dstream)(void);
    size_t (*init_dstream)(void *);
    size_t (*decompress_stream)(void *, zstd_out_buffer *, zstd_in_buffer *);
    size_t (*free_dstream)(void *);
    size_t (*set_parameter)(void *, int, int); /* optional: zstd >= 1.4 */
} zstd;

static struct {
    size_t (*compress_frame_bound)(size_t, const void *);
    size_t (*compress_frame)(void *, size_t, const void *, size_t, const void *);
    unsigned (*is_error)(size_t);
    size_t (*create_dctx)(void **, unsigned);
    size_t (*free_dctx)(void *);
    size_t (*decompress)(void *, void *, size_t *, const void *, size_t *, const void *);
} lz4;

static struct {
    int (*compress)(const char *, size_t, char *, size_t *);
    int (*uncompress)(const char *, size_t, char *, size_t *);
    size_t (*max_compressed_length)(size_t);
    int (*uncompressed_length)(const char *, size_t, size_t *);
} snappy;

static int loaded[5] = { 0, 1, -1, -1, -1 };
static char errors[5][160];
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static void *bind_library(int codec, const char *library, const char *package) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!handle)
        snprintf(errors[codec], sizeof errors[codec],
                 "%s is not installed (apt-get install %s)", library, package);
    return handle;
}

#define BIND(handle, slot, name) \
    do { *(void **)(&(slot)) = dlsym(handle, name); if (!(slot)) ok = 0; } while (0)

int strait_codec_load(int codec) {
    if (codec < 1 || codec > 4) return -1;
    pthread_mutex_lock(&load_lock);
    if (loaded[codec] < 0) {
        void *h = NULL;
        int ok = 1;
        if (codec == STRAIT_CODEC_ZSTD && (h = bind_library(codec, "libzstd.so.1", "libzstd1"))) {
            BIND(h, zstd.compress_bound, "ZSTD_compressBound");
            BIND(h, zstd.compress, "ZSTD_compress");
            BIND(h, zstd.is_error, "ZSTD_isError");
            BIND(h, zstd.create_dstream, "ZSTD_createDStream");
            BIND(h, zstd.init_dstream, "ZSTD_initDStream");
            BIND(h, zstd.decompress_stream, "ZSTD_decompressStream");
            BIND(h, zstd.free_dstream, "ZSTD_freeDStream");
            *(void **)(&zstd.set_parameter) = dlsym(h, "ZSTD_DCtx_setParameter");
        } else if (codec == STRAIT_CODEC_LZ4 && (h = bind_library(codec, "liblz4.so.1", "liblz4-1"))) {
            BIND(h, lz4.compress_frame_bound, "LZ4F_compressFrameBound");
            BIND(h, lz4.compress_frame, "LZ4F_compressFrame");
            BIND(h, lz4.is_error, "LZ4F_isError");
            BIND(h, lz4.create_dctx, "LZ4F_createDecompressionContext");
            BIND(h, lz4.free_dctx, "LZ4F_freeDecompressionContext");
            BIND(h, lz4.decompress, "LZ4F_decompress");
        } else if (codec == STRAIT_CODEC_SNAPPY && (h = bind_library(codec, "libsnappy.so.1", "libsnappy1v5"))) {
            BIND(h, snappy.compress, "snappy_compress");
            BIND(h, snappy.uncompress, "snappy_uncompress");
            BIND(h, snappy.max_compressed_length, "snappy_max_compressed_length");
            BIND(h, snappy.uncompressed_length, "snappy_uncompressed_length");
        }
        if (h && !ok)
            snprintf(errors[codec], sizeof errors[codec], "the installed library for codec %d lacks a needed symbol", codec);
        loaded[codec] = (h && ok) ? 1 : 0;
    }
    int result = loaded[codec] ? 0 : -1;
    pthread_mutex_unlock(&load_lock);
    return result;
}

const char *strait_codec_error(int codec) {
    if (codec < 1 || codec > 4) return "unknown compression codec";
    return errors[codec];
}

uint32_t strait_crc32_ieee(const void *data, size_t length) {
    return (uint32_t)crc32(0L, (const Bytef *)data, (uInt)length);
}

/* ---- compression ------------------------------------------------------------------------ */

size_t strait_codec_bound(int codec, size_t length) {
    if (strait_codec_load(codec) != 0) return 0;
    switch (codec) {
    case STRAIT_CODEC_GZIP: return compressBound(length) + 32; /* gzip header and trailer */
    case STRAIT_CODEC_SNAPPY: return snappy.max_compressed_length(length);
    case STRAIT_CODEC_LZ4: return lz4.compress_frame_bound(length, NULL);
    case STRAIT_CODEC_ZSTD: return zstd.compress_bound(length);
    }
    return 0;
}

static size_t gzip_compress(int level, const void *src, size_t length, void *dst, size_t cap) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, level < 0 ? Z_DEFAULT_COMPRESSION : level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    s.next_in = (Bytef *)src;
    s.avail_in = (uInt)length;
    s.next_out = (Bytef *)dst;
    s.avail_out = (uInt)cap;
    int rc = deflate(&s, Z_FINISH);
    size_t produced = s.total_out;
    deflateEnd(&s);
    return rc == Z_STREAM_END ? produced : 0;
}

size_t strait_codec_compress(int codec, int level, const void *src, size_t length, void *dst, size_t cap) {
    if (strait_codec_load(codec) != 0) return 0;
    switch (codec) {
    case STRAIT_CODEC_GZIP:
        return gzip_compress(level, src, length, dst, cap);
    case STRAIT_CODEC_SNAPPY: {
        size_t out = cap;
        return snappy.compress((const char *)src, length, (char *)dst, &out) == 0 ? out : 0;
    }
    case STRAIT_CODEC_LZ4: {
        size_t out = lz4.compress_frame(dst, cap, src, length, NULL);
        return lz4.is_error(out) ? 0 : out;
    }
    case STRAIT_CODEC_ZSTD: {
        size_t out = zstd.compress(dst, cap, src, length, level < 0 ? 3 : level);
        return zstd.is_error(out) ? 0 : out;
    }
    }
    return 0;
}

/* ---- decompression ---------------------------------------------------------------------- */

/* Decompression is a stream read in caller-sized pieces, so nothing here holds more than one
   codec context and (for snappy) one block: the caller bounds the total, and a record walk can
   look at a batch of any size through a small window. */

#define ZSTD_D_WINDOW_LOG_MAX 100 /* ZSTD_d_windowLogMax */
/* zstd lets a frame ask for a 128 MiB window before it has produced a byte. Kafka's clients
   compress with level-default windows of at most 8 MiB; 16 MiB leaves room and bounds memory. */
#define ZSTD_WINDOW_LOG_LIMIT 24

static const unsigned char xerial_magic[8] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0 };

struct strait_dstream {
    int codec;
    const unsigned char *in;
    size_t in_length;
    size_t in_position;
    size_t limit;
    int finished;
    z_stream gzip;
    void *context;          /* lz4 or zstd */
    unsigned char *block;   /* snappy: the current decompressed block */
    size_t block_length;
    size_t block_position;
    int xerial;
};

static void dstream_free(strait_dstream *s) {
    if (!s) return;
    switch (s->codec) {
    case STRAIT_CODEC_GZIP: inflateEnd(&s->gzip); break;
    case STRAIT_CODEC_LZ4: if (s->context) lz4.free_dctx(s->context); break;
    case STRAIT_CODEC_ZSTD: if (s->context) zstd.free_dstream(s->context); break;
    }
    free(s->block);
    free(s);
}

strait_dstream *strait_dstream_open(int codec, const void *src, size_t length, size_t limit, int *status) {
    *status = 0;
    if (codec < 1 || codec > 4 || strait_codec_load(codec) != 0) { *status = -3; return NULL; }
    strait_dstream *s = calloc(1, sizeof *s);
    if (!s) { *status = -2; return NULL; }
    s->codec = codec;
    s->in = src;
    s->in_length = length;
    s->limit = limit;
    int ok = 1;
    switch (codec) {
    case STRAIT_CODEC_GZIP:
        ok = inflateInit2(&s->gzip, 15 + 32) == Z_OK;
        s->gzip.next_in = (Bytef *)src;
        s->gzip.avail_in = (uInt)length;
        break;
    case STRAIT_CODEC_LZ4:
        ok = !lz4.is_error(lz4.create_dctx(&s->context, 100));
        break;
    case STRAIT_CODEC_ZSTD:
        s->context = zstd.create_dstream();
        ok = s->context && !zstd.is_error(zstd.init_dstream(s->context));
        if (ok && zstd.set_parameter) zstd.set_parameter(s->context, ZSTD_D_WINDOW_LOG_MAX, ZSTD_WINDOW_LOG_LIMIT);
        break;
    case STRAIT_CODEC_SNAPPY:
        s->xerial = length >= 16 && memcmp(src, xerial_magic, 8) == 0;
        if (s->xerial) s->in_position = 16;
        break;
    }
    if (!ok) { dstream_free(s); *status = -1; return NULL; }
    return s;
}

/* The next snappy block into s->block: the rest of a xerial stream's blocks one by one, or a
   bare raw block whole. 0 when there is none left, -1 corrupt, -2 over the limit. */
static int snappy_next_block(strait_dstream *s) {
    const unsigned char *block = s->in + s->in_position;
    size_t block_length = s->in_length - s->in_position;
    if (block_length == 0 || (!s->xerial && s->finished)) return 0;
    if (s->xerial) {
        if (block_length < 4) return -1;
        size_t n = ((size_t)block[0] << 24) | ((size_t)block[1] << 16) | ((size_t)block[2] << 8) | block[3];
        if (n > block_length - 4) return -1;
        block += 4;
        block_length = n;
        s->in_position += 4 + n;
    } else {
        s->in_position = s->in_length;
        s->finished = 1;
    }
    size_t size = 0;
    if (snappy.uncompressed_length((const char *)block, block_length, &size) != 0) return -1;
    if (size > s->limit) return -2;
    free(s->block);
    s->block = malloc(size ? size : 1);
    if (!s->block) return -2;
    s->block_length = size;
    s->block_position = 0;
    if (snappy.uncompress((const char *)block, block_length, (char *)s->block, &s->block_length) != 0) return -1;
    return 1;
}

long strait_dstream_read(strait_dstream *s, void *dst, size_t cap) {
    if (cap == 0 || s->finished == 2) return 0;
    switch (s->codec) {
    case STRAIT_CODEC_GZIP:
        for (;;) {
            s->gzip.next_out = dst;
            s->gzip.avail_out = (uInt)cap;
            int rc = inflate(&s->gzip, Z_NO_FLUSH);
            long produced = (long)(cap - s->gzip.avail_out);
            if (rc == Z_STREAM_END) {
                /* concatenated gzip members */
                if (s->gzip.avail_in == 0) s->finished = 2;
                else if (inflateReset(&s->gzip) != Z_OK) return -1;
                if (produced > 0 || s->finished == 2) return produced;
                continue;
            }
            if (rc != Z_OK && !(rc == Z_BUF_ERROR && s->gzip.avail_in > 0)) return -1;
            if (produced > 0) return produced;
            if (s->gzip.avail_in == 0) return -1; /* truncated */
        }
    case STRAIT_CODEC_LZ4:
        for (;;) {
            size_t out = cap;
            size_t consumed = s->in_length - s->in_position;
            size_t hint = lz4.decompress(s->context, dst, &out, s->in + s->in_position, &consumed, NULL);
            if (lz4.is_error(hint)) return -1;
            s->in_position += consumed;
            if (hint == 0 && s->in_position == s->in_length) s->finished = 2;
            if (out > 0 || s->finished == 2) return (long)out;
            if (consumed == 0 || s->in_position == s->in_length) return -1; /* frame incomplete */
        }
    case STRAIT_CODEC_ZSTD:
        for (;;) {
            zstd_in_buffer in = { s->in, s->in_length, s->in_position };
            zstd_out_buffer out = { dst, cap, 0 };
            size_t rc = zstd.decompress_stream(s->context, &out, &in);
            if (zstd.is_error(rc)) return -1;
            int progress = in.pos != s->in_position || out.pos > 0;
            s->in_position = in.pos;
            if (rc == 0 && in.pos == in.size) s->finished = 2;
            if (out.pos > 0 || s->finished == 2) return (long)out.pos;
            if (!progress) return -1; /* frame incomplete */
        }
    case STRAIT_CODEC_SNAPPY:
        while (s->block_position == s->block_length) {
            int rc = snappy_next_block(s);
            if (rc == 0) { s->finished = 2; return 0; }
            if (rc < 0) return rc;
        }
        size_t n = s->block_length - s->block_position;
        if (n > cap) n = cap;
        memcpy(dst, s->block + s->block_position, n);
        s->block_position += n;
        return (long)n;
    }
    return -1;
}

void strait_dstream_close(strait_dstream *s) { dstream_free(s); }
