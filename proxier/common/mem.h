/*
 * mem.h: giving the heap's free memory back to the system after a large message.
 *
 * A very large envelope (SOAP_MAX_ENVELOPE is 4 MB) passes through several copies: curl's
 * receive buffer, our response buffer, libxml2's tree of it, our answer. Once freed, glibc's
 * malloc keeps most of those pages: freeing a large mmap'ed block raises its mmap threshold
 * (so the next large buffers come from the heap), and the heap is returned only from its top,
 * which small blocks allocated meanwhile pin in place. mem_release_free asks the allocator to
 * give back every free page (glibc malloc_trim(0), which also releases whole free pages in
 * the middle of the heap). The session layer calls it after a session that carried a large
 * message; docs/operations.md "Memory" has the figures.
 */
#ifndef PX_MEM_H
#define PX_MEM_H

#include <stdbool.h>

/* Return free heap pages to the system. True if the allocator has a way to do it (glibc);
 * elsewhere a no-op that returns false. */
bool mem_release_free(void);

#endif
