#ifndef CARCHIVE_SHIM_H
#define CARCHIVE_SHIM_H
// libarchive (system library, libarchive-dev): read/write handles and entries.
#include <archive.h>
#include <archive_entry.h>
#endif
