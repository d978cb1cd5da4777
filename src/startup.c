/* startup.c — what the nnlab executable checks before any library starts:
 * room in the address space for OpenBLAS. Linked into the command line only. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "nnlab.h"
/* ---- before OpenBLAS starts ----------------------------------------------------
 * OpenBLAS reserves its buffers in its library constructor, before main:
 * 128 MiB and more of address space. Under an address-space limit (ulimit -v)
 * that does not leave room, it retries for ever at 100% CPU. An executable's
 * .preinit_array runs before any library's constructor, so the limit is
 * checked there: the room is taken and given back (mmap, munmap), and
 * without it nnlab says so and exits 1. Only raw system calls here: the C
 * library is not set up yet. */

#define NN_STARTUP_BYTES ((size_t)320 << 20) /* OpenBLAS's buffers and the rest of start-up, measured */

static void startup_room(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
    void *room = mmap(NULL, NN_STARTUP_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (room != MAP_FAILED) {
        munmap(room, NN_STARTUP_BYTES);
        return;
    }
    static const char msg[] = "nnlab: the address-space limit (ulimit -v) leaves no room for OpenBLAS's buffers, "
                              "which need about 320 MiB more than the program; raise it (ulimit -v 1000000 or more "
                              "for small experiments)\n";
    ssize_t unused = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)unused;
    _exit(NN_EXIT_RUNTIME);
}

__attribute__((section(".preinit_array"), used)) static void (*const nn_preinit)(int, char **, char **) = startup_room;
