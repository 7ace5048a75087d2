// Linux calls that glibc only declares under _GNU_SOURCE, which Swift's Glibc module does
// not define. The symbols are in libc itself; only the declarations are missing.
#ifndef KURA_SYSTEM_SHIM_H
#define KURA_SYSTEM_SHIM_H
#ifdef __linux__
#include <stdint.h>

int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags);

// SYNC_FILE_RANGE_WRITE from <fcntl.h>: start writeback of dirty pages in the range.
static const unsigned int KURA_SYNC_FILE_RANGE_WRITE = 2;
#endif
#endif
