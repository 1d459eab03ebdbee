#define _GNU_SOURCE
#include "CSandbox.h"
#include <string.h>

long csandbox_find(const void *haystack, size_t haystack_count, const void *needle, size_t needle_count) {
    if (needle_count == 0) return 0;
    const void *found = memmem(haystack, haystack_count, needle, needle_count);
    return found ? (long)((const char *)found - (const char *)haystack) : -1;
}

size_t csandbox_count_byte(const void *bytes, size_t count, unsigned char byte) {
    size_t total = 0;
    const unsigned char *cursor = bytes;
    const unsigned char *end = cursor + count;
    while (cursor < end) {
        const unsigned char *next = memchr(cursor, byte, (size_t)(end - cursor));
        if (!next) break;
        total++;
        cursor = next + 1;
    }
    return total;
}
