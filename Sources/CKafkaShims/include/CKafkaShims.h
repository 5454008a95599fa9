#ifndef STRAIT_CKAFKASHIMS_H
#define STRAIT_CKAFKASHIMS_H

#include <stddef.h>
#include <stdint.h>

/* CRC32C (Castagnoli), as Kafka's RecordBatch v2 uses it: initial value and final xor 0xFFFFFFFF.
   Pass the previous result as `crc` to continue a running checksum (0 to start). */
uint32_t strait_crc32c(uint32_t crc, const void *data, size_t length);
/* Same, never using the CPU instruction: the reference the tests compare the fast path with. */
uint32_t strait_crc32c_portable(uint32_t crc, const void *data, size_t length);
/* CRC-32 (IEEE, zlib's), the checksum of legacy magic 0/1 messages. */
uint32_t strait_crc32_ieee(const void *data, size_t length);
/* One stream of the CRC32C instruction, eight bytes a step: the baseline the three-stream
   path is benchmarked against. Falls back to the portable code without the instruction. */
uint32_t strait_crc32c_single_stream(uint32_t crc, const void *data, size_t length);
/* 1 when strait_crc32c uses the CPU's CRC32C instruction. */
int strait_crc32c_hardware(void);

/* Codec identifiers, as in the compression bits of a batch's attributes. */
enum { STRAIT_CODEC_GZIP = 1, STRAIT_CODEC_SNAPPY = 2, STRAIT_CODEC_LZ4 = 3, STRAIT_CODEC_ZSTD = 4 };

// Binds the codec's shared library on first use. Returns 0 when usable; otherwise -1, and
// strait_codec_error() tells which library is missing. gzip is linked and always usable.
int strait_codec_load(int codec);
const char *strait_codec_error(int codec);

/* Compression: writes into dst (capacity cap) and returns the compressed size, or 0 on failure.
   strait_codec_bound() gives a capacity that always suffices. level < 0 means the codec's default. */
size_t strait_codec_bound(int codec, size_t length);
size_t strait_codec_compress(int codec, int level, const void *src, size_t length, void *dst, size_t cap);

/* Decompression as a stream over `src` (which must outlive it), read in pieces of the caller's
   size. open returns NULL with *status -3 when the codec is unavailable, -1 when the data cannot
   start a stream, -2 when out of memory. read returns the bytes written (> 0), 0 at the end, -1 on
   corrupt or truncated input, -2 when one snappy block alone would exceed `limit`; the caller
   bounds the total. */
typedef struct strait_dstream strait_dstream;
strait_dstream *strait_dstream_open(int codec, const void *src, size_t length, size_t limit, int *status);
long strait_dstream_read(strait_dstream *stream, void *dst, size_t cap);
void strait_dstream_close(strait_dstream *stream);

#endif
