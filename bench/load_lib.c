/* Cost of loading the library: dlopen (RTLD_NOW, so all relocations) and
 * one call, in a fresh process. Prints {"load_us":..}. */
#include "common.h"
#include <dlfcn.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    uint64_t t0 = now_ns();
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "load_lib: %s\n", dlerror()); return 1; }
    const char *(*version)(void) = (const char *(*)(void))dlsym(h, "vf_version");
    if (!version || !version()) return 1;
    printf("{\"load_us\":%.1f}\n", (now_ns() - t0) / 1e3);
    return 0;
}
