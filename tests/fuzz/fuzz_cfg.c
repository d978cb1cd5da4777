/* fuzz_cfg.c — libFuzzer target for the experiment parser (node + cfg).
 *
 * Input: an experiment file. If its first line is "#! KEY=VALUE", that line
 * is also applied as a command-line override, so overrides are fuzzed too.
 * Properties checked beyond "no crash, no sanitizer report": a failure
 * leaves a message and no experiment; a success produces a resolved text
 * that loads again to the same fingerprint. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "nnlab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char override[256];
    char *overrides[1] = {override};
    int n_overrides = 0;
    if (size > 3 && !memcmp(text, "#! ", 3)) {
        const char *nl = memchr(text, '\n', size);
        size_t len = (nl ? (size_t)(nl - text) : size) - 3;
        if (len < sizeof override && !memchr(text + 3, '\0', len)) {
            memcpy(override, text + 3, len);
            override[len] = '\0';
            n_overrides = 1;
        }
    }
    Experiment *ex = NULL;
    char err[NN_ERR_LEN] = "";
    if (cfg_load_text(&ex, "fuzz.yaml", text, size, overrides, n_overrides, err) != 0) {
        if (ex || !err[0]) abort();
        return 0;
    }
    Experiment *again = NULL;
    char err2[NN_ERR_LEN] = "";
    if (cfg_load_text(&again, "resolved.yaml", ex->resolved, strlen(ex->resolved), NULL, 0, err2) != 0) {
        fprintf(stderr, "the resolved text does not load again: %s\n--- resolved:\n%s", err2, ex->resolved);
        abort();
    }
    if (strcmp(again->fingerprint, ex->fingerprint) || again->n_configs != ex->n_configs) {
        fprintf(stderr, "the resolved text loads to another experiment\n--- resolved:\n%s", ex->resolved);
        abort();
    }
    cfg_free(again);
    cfg_free(ex);
    return 0;
}
