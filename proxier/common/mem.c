/*
 * mem.c: returning free heap memory to the system (see mem.h). malloc_trim is a glibc
 * extension, found at configure time (PX_HAVE_MALLOC_TRIM): other C libraries build a no-op.
 */
#include "proxier/common/mem.h"

#ifdef PX_HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

bool mem_release_free(void)
{
#ifdef PX_HAVE_MALLOC_TRIM
    malloc_trim(0); /* 0: keep no padding at the top of the heap */
    return true;
#else
    return false;
#endif
}
