#ifndef STRAIT_CLIBFUZZER_H
#define STRAIT_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/* libFuzzer's driver (LLVM 12+), linked only into fuzzing builds (-sanitize=fuzzer): runs the
   fuzzing loop with libFuzzer's command-line flags and calls `callback` once per input. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
