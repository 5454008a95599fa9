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

void strait_free(void *pointer) { free(pointer); }

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

/* A growing output buffer bounded by a limit, so a small frame cannot expand without end. */
typedef struct { unsigned char *data; size_t length; size_t capacity; size_t limit; } growable;

static int grow(growable *g, size_t want) {
    if (g->capacity - g->length >= want) return 0;
    if (g->length + want > g->limit && g->length >= g->limit) return -2;
    size_t capacity = g->capacity ? g->capacity : 4096;
    while (capacity - g->length < want) capacity *= 2;
    if (capacity > g->limit + 1) capacity = g->limit + 1;
    if (capacity <= g->length) return -2;
    unsigned char *data = realloc(g->data, capacity);
    if (!data) return -2;
    g->data = data;
    g->capacity = capacity;
    return 0;
}

static int gzip_decompress(const void *src, size_t length, growable *g) {
    z_stream s;
    memset(&s, 0, sizeof s);
    if (inflateInit2(&s, 15 + 32) != Z_OK) return -1;
    s.next_in = (Bytef *)src;
    s.avail_in = (uInt)length;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (grow(g, length * 2 + 1024) != 0) { inflateEnd(&s); return -2; }
        s.next_out = g->data + g->length;
        s.avail_out = (uInt)(g->capacity - g->length);
        rc = inflate(&s, Z_NO_FLUSH);
        g->length = g->capacity - s.avail_out;
        if (rc == Z_STREAM_END && s.avail_in > 0) {
            /* concatenated gzip members */
            if (inflateReset(&s) != Z_OK) break;
            rc = Z_OK;
            continue;
        }
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) { inflateEnd(&s); return -1; }
        if (rc == Z_BUF_ERROR && s.avail_in == 0) { inflateEnd(&s); return -1; }
    }
    inflateEnd(&s);
    return g->length > g->limit ? -2 : 0;
}

static int lz4_decompress(const void *src, size_t length, growable *g) {
    void *ctx = NULL;
    if (lz4.is_error(lz4.create_dctx(&ctx, 100))) return -1;
    const unsigned char *in = src;
    size_t remaining = length;
    size_t hint = 1;
    while (remaining > 0 && hint != 0) {
        if (grow(g, 64 * 1024) != 0) { lz4.free_dctx(ctx); return -2; }
        size_t out = g->capacity - g->length;
        size_t consumed = remaining;
        hint = lz4.decompress(ctx, g->data + g->length, &out, in, &consumed, NULL);
        if (lz4.is_error(hint)) { lz4.free_dctx(ctx); return -1; }
        g->length += out;
        in += consumed;
        remaining -= consumed;
        if (consumed == 0 && out == 0) break;
    }
    lz4.free_dctx(ctx);
    if (hint != 0) return -1; /* frame incomplete */
    return g->length > g->limit ? -2 : 0;
}

static int zstd_decompress(const void *src, size_t length, growable *g) {
    void *ds = zstd.create_dstream();
    if (!ds) return -1;
    if (zstd.is_error(zstd.init_dstream(ds))) { zstd.free_dstream(ds); return -1; }
    zstd_in_buffer in = { src, length, 0 };
    size_t rc = 1;
    while (in.pos < in.size || rc != 0) {
        if (grow(g, 128 * 1024) != 0) { zstd.free_dstream(ds); return -2; }
        zstd_out_buffer out = { g->data + g->length, g->capacity - g->length, 0 };
        size_t before = in.pos;
        rc = zstd.decompress_stream(ds, &out, &in);
        if (zstd.is_error(rc)) { zstd.free_dstream(ds); return -1; }
        g->length += out.pos;
        if (in.pos == in.size && rc != 0 && out.pos == 0 && before == in.pos) { zstd.free_dstream(ds); return -1; }
    }
    zstd.free_dstream(ds);
    return g->length > g->limit ? -2 : 0;
}

static int snappy_decompress(const void *src, size_t length, growable *g) {
    size_t size = 0;
    if (snappy.uncompressed_length((const char *)src, length, &size) != 0) return -1;
    if (size > g->limit) return -2;
    if (grow(g, size ? size : 1) != 0) return -2;
    size_t out = g->capacity - g->length;
    if (snappy.uncompress((const char *)src, length, (char *)g->data + g->length, &out) != 0) return -1;
    g->length += out;
    return 0;
}

int strait_snappy_uncompressed_length(const void *src, size_t length, size_t *result) {
    if (strait_codec_load(STRAIT_CODEC_SNAPPY) != 0) return -3;
    return snappy.uncompressed_length((const char *)src, length, result) == 0 ? 0 : -1;
}

int strait_codec_decompress(int codec, const void *src, size_t length, size_t limit,
                            void **out, size_t *out_length) {
    *out = NULL;
    *out_length = 0;
    if (strait_codec_load(codec) != 0) return -3;
    growable g = { NULL, 0, 0, limit };
    int rc = -1;
    switch (codec) {
    case STRAIT_CODEC_GZIP: rc = gzip_decompress(src, length, &g); break;
    case STRAIT_CODEC_SNAPPY: rc = snappy_decompress(src, length, &g); break;
    case STRAIT_CODEC_LZ4: rc = lz4_decompress(src, length, &g); break;
    case STRAIT_CODEC_ZSTD: rc = zstd_decompress(src, length, &g); break;
    }
    if (rc != 0) { free(g.data); return rc; }
    *out = g.data;
    *out_length = g.length;
    return 0;
}
