/* sgemm_bench.c — OpenBLAS sgemm GFLOP/s, one thread, at the shapes of one
 * training step of a 784-256-256-10 network on batches of 128 (forward,
 * weight gradient and input gradient of each layer), as the benchmark's
 * yardstick. Prints one JSON line. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(void)
{
    openblas_set_num_threads(1);
    const int B = 128, sizes[4] = {784, 256, 256, 10};
    float *a = calloc(784 * 784, sizeof(float)), *b = calloc(784 * 784, sizeof(float)), *c = calloc(784 * 784, sizeof(float));
    for (int i = 0; i < 784 * 784; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    double flops = 0, seconds = 0;
    for (int rep = 0; rep < 2; rep++) { /* the first pass warms up */
        double t0 = now(), f = 0;
        for (int it = 0; it < 100; it++)
            for (int l = 0; l < 3; l++) {
                int in = sizes[l], out = sizes[l + 1];
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in, 1, a, in, b, out, 0, c, out);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B, 1, a, in, b, out, 0, c, out);
                f += 4.0 * B * in * out;
                if (l > 0) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out, 1, a, out, b, out, 0, c, in);
                    f += 2.0 * B * in * out;
                }
            }
        seconds = now() - t0;
        flops = f;
    }
    printf("{\"impl\": \"sgemm\", \"gflops\": %.3f}\n", flops / seconds / 1e9);
    free(a);
    free(b);
    free(c);
    return 0;
}
