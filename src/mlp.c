/* mlp.c — dense layers, activations, softmax cross-entropy and dropout.
 *
 * Kernels are plain loops written so GCC vectorizes the inner ones without
 * -ffast-math (never used: it would change results and breaks exp/log edge
 * cases). Zero inputs are skipped in the dense kernels: 0·w adds nothing,
 * and about half of the digits' pixels are 0. */
#include "mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnlab.h"

const char *const mlp_activation_names[] = {"sigmoid", "tanh", "relu", "leaky_relu", NULL};
const char *const mlp_init_names[] = {"lecun_normal", "xavier_uniform", "he_normal", NULL};

#define LEAKY_SLOPE 0.01f

int mlp_setup(Mlp *m, int n_in, const int *hidden, int n_hidden, int n_out, int activation,
              float dropout, char *err)
{
    memset(m, 0, sizeof *m);
    if (n_hidden < 0 || n_hidden > MLP_MAX_HIDDEN)
        return nn_errf(err, "%d hidden layers; at most %d are supported", n_hidden, MLP_MAX_HIDDEN);
    if (n_in < 1 || n_out < 2) return nn_errf(err, "need at least 1 input and 2 classes");
    m->n_layers = n_hidden + 1;
    m->size[0] = n_in;
    for (int l = 0; l < n_hidden; l++) {
        if (hidden[l] < 1) return nn_errf(err, "hidden layer %d has %d units", l, hidden[l]);
        m->size[l + 1] = hidden[l];
    }
    m->size[m->n_layers] = n_out;
    size_t off = 0;
    for (int l = 0; l < m->n_layers; l++) {
        m->w_off[l] = off;
        off += (size_t)m->size[l] * (size_t)m->size[l + 1];
        m->b_off[l] = off;
        off += (size_t)m->size[l + 1];
    }
    m->n_params = off;
    m->activation = activation;
    m->dropout = dropout;
    return 0;
}

int mlp_dot_layer(const Mlp *m, int l)
{
    return l > 0 && l < m->n_layers;
}

static int widest(const Mlp *m)
{
    int w = 0;
    for (int l = 1; l <= m->n_layers; l++) w = m->size[l] > w ? m->size[l] : w;
    return w;
}

/* Floats of each workspace buffer, in the order mlp_work_create carves them. */
static size_t work_floats(const Mlp *m, int B)
{
    size_t n = 0, b = (size_t)B;
    int dropout = m->dropout > 0.0f;
    for (int l = 0; l < m->n_layers; l++) {
        size_t width = b * (size_t)m->size[l + 1];
        n += width;
        if (dropout && l < m->n_layers - 1) n += 2 * width;
    }
    n += b * (size_t)m->size[m->n_layers];
    n += 2 * b * (size_t)widest(m);
    for (int l = 1; l < m->n_layers; l++) /* every later layer is a dot layer: wt, vt (two states), pend_a, pend_d */
        n += 3 * (size_t)m->size[l] * (size_t)m->size[l + 1] + (size_t)m->size[l] + (size_t)m->size[l + 1];
    return n;
}

size_t mlp_work_bytes(const Mlp *m, int max_batch)
{
    return work_floats(m, max_batch) * sizeof(float) + (size_t)m->size[0] * sizeof(int);
}

MlpWork *mlp_work_create(const Mlp *m, int max_batch)
{
    MlpWork *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    ws->block = nn_calloc(work_floats(m, max_batch), sizeof(float));
    ws->rows = nn_alloc((size_t)m->size[0], sizeof(int));
    if (!ws->block || !ws->rows) {
        mlp_work_destroy(ws);
        return NULL;
    }
    ws->max_batch = max_batch;
    float *p = ws->block;
    size_t b = (size_t)max_batch;
    int dropout = m->dropout > 0.0f;
    for (int l = 0; l < m->n_layers; l++) {
        size_t width = b * (size_t)m->size[l + 1];
        ws->act[l] = p, p += width;
        if (dropout && l < m->n_layers - 1) {
            ws->mask[l] = p, p += width;
            ws->drop[l] = p, p += width;
        }
    }
    ws->logits = p, p += b * (size_t)m->size[m->n_layers];
    ws->delta[0] = p, p += b * (size_t)widest(m);
    ws->delta[1] = p, p += b * (size_t)widest(m);
    for (int l = 1; l < m->n_layers; l++) { /* the dot layers */
        ws->wt[l] = p, p += (size_t)m->size[l] * (size_t)m->size[l + 1];
        ws->vt[l] = p, p += 2 * (size_t)m->size[l] * (size_t)m->size[l + 1];
        ws->pend_a[l] = p, p += (size_t)m->size[l];
        ws->pend_d[l] = p, p += (size_t)m->size[l + 1];
    }
    return ws;
}

void mlp_work_destroy(MlpWork *ws)
{
    if (!ws) return;
    free(ws->block);
    free(ws->rows);
    free(ws);
}

void mlp_init(const Mlp *m, float *params, int init, Rng *rng)
{
    for (int l = 0; l < m->n_layers; l++) {
        int fan_in = m->size[l], fan_out = m->size[l + 1];
        float *w = params + m->w_off[l];
        size_t n = (size_t)fan_in * (size_t)fan_out;
        if (init == INIT_XAVIER_UNIFORM) {
            double a = sqrt(6.0 / (fan_in + fan_out));
            for (size_t i = 0; i < n; i++) w[i] = (float)((2.0 * rng_uniform(rng) - 1.0) * a);
        } else {
            double sd = init == INIT_HE_NORMAL ? sqrt(2.0 / fan_in) : 1.0 / sqrt((double)fan_in);
            for (size_t i = 0; i < n; i++) w[i] = (float)(rng_normal(rng) * sd);
        }
        for (size_t i = 0; i < n; i++) w[i] += 0.0f; /* -0 (were one drawn) becomes +0: see sgd_weight */
        memset(params + m->b_off[l], 0, (size_t)fan_out * sizeof(float));
    }
}

void mlp_dropout_sample(const Mlp *m, MlpWork *ws, int B, Rng *rng)
{
    if (m->dropout <= 0.0f) return;
    float keep = 1.0f - m->dropout, scale = 1.0f / keep;
    /* rng_uniform(rng) < keep, in integers: u = k·2^-53 with k = 53 bits, and
     * keep·2^53 is a whole number (keep is a float above 2^-30), so u < keep
     * exactly when k < keep·2^53. */
    uint64_t below = (uint64_t)((double)keep * 0x1p53);
    for (int l = 0; l < m->n_layers - 1; l++) {
        size_t n = (size_t)B * (size_t)m->size[l + 1];
        float *mask = ws->mask[l];
        for (size_t i = 0; i < n; i++) mask[i] = rng_u64(rng) >> 11 < below ? scale : 0.0f;
    }
}

#ifdef __GNUC__
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

void mlp_blas_single_thread(void)
{
    openblas_set_num_threads(1);
}

/* ---- exp and the activations ------------------------------------------- *
 * libm's expf does not vectorize without -ffast-math (which we never use:
 * it changes results). This is Cephes' expf: range reduction by
 * n = round(x·log2 e) (the 1.5·2^23 trick, exact in float), a degree-6
 * polynomial on [-ln2/2, ln2/2], and 2^n built in the exponent bits.
 * Multiply-adds are fmaf (one rounding, and half the latency of the chain).
 * Relative error below 2.5e-7 (2 ulp) on [-87.3, 88]; inputs outside are
 * clamped there (exp(88) = 1.65e38, exp(-87.3) = 1.2e-38); NaN stays NaN.
 * Plain float arithmetic and integer bit operations, no undefined
 * conversions, so GCC vectorizes every loop that calls it. */
/* exp_core in three steps, which a caller may run as three passes over a
 * block (see sigmoid_block). Range reduction: r = x - n·ln 2 with n in t. */
static ALWAYS_INLINE float exp_reduce(float x, float *t_out)
{
    float t = fmaf(x, 1.44269504088896341f, 12582912.0f); /* round(x·log2 e) in t's low mantissa bits */
    float n = t - 12582912.0f;
    float r = fmaf(n, -0.693359375f, x); /* x - n·ln 2 in two parts (Cody-Waite) */
    *t_out = t;
    return fmaf(n, 2.12194440e-4f, r);
}

static ALWAYS_INLINE float exp_poly(float r) /* exp(r) on [-ln2/2, ln2/2] */
{
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    return fmaf(p, r * r, r + 1.0f);
}

static ALWAYS_INLINE float exp_scale(float p, float t) /* p·2^n */
{
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    uint32_t eb = (tb - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &eb, sizeof scale);
    return p * scale;
}

static ALWAYS_INLINE float exp_core(float x) /* x in [-87.33654, 88] or NaN */
{
    float t, r = exp_reduce(x, &t);
    return exp_scale(exp_poly(r), t);
}

static inline float exp_approx(float x)
{
    x = x > 88.0f ? 88.0f : x;
    x = x < -87.33654f ? -87.33654f : x;
    return exp_core(x);
}

float mlp_expf(float x)
{
    return exp_approx(x);
}

/* sigmoid with z clamped to >= -80, so an output is never subnormal
 * (sigmoid(-80) = 1.8e-35); tanh as Cephes' tanhf: an odd polynomial below
 * |x| = 0.625, 1 - 2/(exp(2|x|) + 1) above. */
static ALWAYS_INLINE float sigmoid_arg(float z) /* -z, clamped */
{
    z = z < -80.0f ? -80.0f : z;
    return -(z > 87.33654f ? 87.33654f : z); /* exp's own clamp, done once here */
}

static ALWAYS_INLINE float sigmoid(float z)
{
    return 1.0f / (1.0f + exp_core(sigmoid_arg(z)));
}

/* sigmoid over a[0..m), m <= 64, in three passes (range reduction, the
 * polynomial, then scale and divide): the same bits as sigmoid() one value
 * at a time, 0.86-0.9x its time, since each pass is short chains side by
 * side instead of one long chain per value. */
static ALWAYS_INLINE void sigmoid_block(float *restrict a, size_t m)
{
    float t[64], r[64];
    for (size_t k = 0; k < m; k++) r[k] = exp_reduce(sigmoid_arg(a[k]), &t[k]);
    for (size_t k = 0; k < m; k++) r[k] = exp_poly(r[k]);
    for (size_t k = 0; k < m; k++) a[k] = 1.0f / (1.0f + exp_scale(r[k], t[k]));
}

static ALWAYS_INLINE float tanh_approx(float x)
{
    float ax = fabsf(x), z = x * x;
    float big = 1.0f - 2.0f / (exp_core(2.0f * (ax > 10.0f ? 10.0f : ax)) + 1.0f); /* 1.0f from 10 on */
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z +
                    1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    return ax < 0.625f ? small : copysignf(big, x);
}

/* Sigmoid in sigmoid_block's passes; tanh four vectors per iteration: each
 * exp is a long dependency chain, and written out side by side they overlap
 * instead of waiting on each other. Every length gives each value the bits
 * of the one-value path. */
NN_HOT void mlp_activation(float *a, size_t n, int act)
{
    size_t i = 0;
    switch (act) {
    case ACT_SIGMOID:
        for (; i + 64 <= n; i += 64) sigmoid_block(a + i, 64);
        if (n - i >= 8) { /* the rest in whole vectors as one block */
            size_t m = (n - i) & ~(size_t)7;
            sigmoid_block(a + i, m);
            i += m;
        }
        for (; i < n; i++) a[i] = sigmoid(a[i]);
        break;
    case ACT_TANH:
        for (; i + 32 <= n; i += 32)
            for (size_t k = 0; k < 32; k++) a[i + k] = tanh_approx(a[i + k]);
        for (; i < n; i++) a[i] = tanh_approx(a[i]);
        break;
    case ACT_RELU:
        for (; i < n; i++) a[i] = a[i] > 0.0f ? a[i] : 0.0f;
        break;
    case ACT_LEAKY_RELU:
        for (; i < n; i++) a[i] = a[i] > 0.0f ? a[i] : LEAKY_SLOPE * a[i];
        break;
    }
}

/* d (n) *= act'(z), with the derivative written in terms of the output a = act(z). */
NN_HOT static void activation_backward(float *restrict d, const float *restrict a, size_t n, int act)
{
    switch (act) {
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) d[i] *= a[i] * (1.0f - a[i]);
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++) d[i] *= 1.0f - a[i] * a[i];
        break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++) d[i] = a[i] > 0.0f ? d[i] : 0.0f;
        break;
    case ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) d[i] = a[i] > 0.0f ? d[i] : LEAKY_SLOPE * d[i];
        break;
    }
}

/* 8-lane vectors (GCC's vector extension) for the kernels below.
 * Sums kept in a float[] are left on the stack by GCC (zeroed with rep stos,
 * reloaded every step, added up one float at a time); named vectors stay in
 * registers. Lane by lane they do the same operations in the same order as
 * the float[] code did, so the bits are the same; measured on the tutorial's
 * 200 -> 10 layer, the input gradient takes 0.35x the time and the fused
 * update + dot product 0.64x. */
typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

/* *s += w[0..8) · d, lane by lane. */
static ALWAYS_INLINE void v8_fma(v8f *restrict s, const float *restrict w, float d)
{
    v8f wv;
    memcpy(&wv, w, sizeof wv);
    for (int k = 0; k < 8; k++) (*s)[k] = fmaf(wv[k], d, (*s)[k]);
}

/* ---- dense layers -------------------------------------------------------- *
 * One row through the first layer (per-example training): a loop that skips
 * zero inputs (exact: 0·w adds nothing, and about half the digits' pixels
 * are 0); through later layers, dot products (dense_forward_dot). Training
 * batches of 2 to MLP_LOOP_ROWS rows: tiles of a few rows by a few vectors
 * of outputs, the sums held in registers. Larger batches, and evaluation:
 * OpenBLAS sgemm, single-threaded inside a run. */

/* The sums of a tile, R rows by V vectors (R·V <= 8, constants where
 * inlined), kept in eight named vectors s0..s7, which stay in registers (an
 * array of them stayed on the stack: a batch-2 run took 2.6x the time):
 * EACH_SUM(f, ...) calls f(&sk, k, ...) for each, and f acts on sum k (row
 * k / V, vector k % V) when k < R·V. */
#define EACH_SUM(f, ...)                                                                                               \
    (f(&s0, 0, __VA_ARGS__), f(&s1, 1, __VA_ARGS__), f(&s2, 2, __VA_ARGS__), f(&s3, 3, __VA_ARGS__),                   \
     f(&s4, 4, __VA_ARGS__), f(&s5, 5, __VA_ARGS__), f(&s6, 6, __VA_ARGS__), f(&s7, 7, __VA_ARGS__))

/* Runs stmt for the groups of rows r .. r + R of n rows: R = 4 as often as
 * they fit, then 2, then 1, with R a constant in each (tiles are inlined
 * per R). */
#define EACH_ROW_GROUP(n, r, R, stmt)                                                                                  \
    do {                                                                                                               \
        int r = 0;                                                                                                     \
        for (; r + 4 <= (n); r += 4) {                                                                                 \
            const int R = 4;                                                                                           \
            stmt;                                                                                                      \
        }                                                                                                              \
        if (r + 2 <= (n)) {                                                                                            \
            const int R = 2;                                                                                           \
            stmt;                                                                                                      \
            r += 2;                                                                                                    \
        }                                                                                                              \
        if (r < (n)) {                                                                                                 \
            const int R = 1;                                                                                           \
            stmt;                                                                                                      \
        }                                                                                                              \
    } while (0)

static ALWAYS_INLINE void tile_load(v8f *s, int k, const float *restrict p, size_t stride, int R, int V)
{
    if (k < R * V) memcpy(s, p + (size_t)(k / V) * stride + 8 * (k % V), sizeof *s);
}

static ALWAYS_INLINE void tile_store(v8f *s, int k, float *restrict p, size_t stride, int R, int V)
{
    if (k < R * V) memcpy(p + (size_t)(k / V) * stride + 8 * (k % V), s, sizeof *s);
}

/* Sum k += vec[8·(k % V) ..] · x[(k / V)·xs], lane by lane. */
static ALWAYS_INLINE void tile_fma(v8f *s, int k, const float *restrict vec, const float *restrict x, size_t xs, int R,
                                   int V)
{
    if (k < R * V) v8_fma(s, vec + 8 * (k % V), x[(size_t)(k / V) * xs]);
}

/* out (R rows of stride so, 8V columns) += inp (R rows of n inputs, stride
 * si) · w (n rows of stride sw, 8V columns): each output sums its inputs in
 * order i = 0, 1, ... onto what out holds. No input is skipped: fma(0, w, s)
 * = s for finite w, s never being -0 (it starts at a bias), so the bits are
 * those of skipping zeros. */
static ALWAYS_INLINE void forward_tile(float *restrict out, const float *restrict inp, const float *restrict w,
                                       int n, size_t so, size_t si, size_t sw, int R, int V)
{
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
    EACH_SUM(tile_load, out, so, R, V);
    for (int i = 0; i < n; i++) EACH_SUM(tile_fma, w + (size_t)i * sw, inp + i, si, R, V);
    EACH_SUM(tile_store, out, so, R, V);
}

/* forward_tile over the first OC - OC % 8 columns of R rows: 8/R vectors
 * at a time, then one vector at a time. */
static ALWAYS_INLINE void forward_rows(float *restrict out, const float *restrict inp, const float *restrict w, int C,
                                       int OC, int R)
{
    int V = 8 / R, j = 0;
    size_t so = (size_t)OC, si = (size_t)C;
    for (; j + 8 * V <= OC; j += 8 * V) forward_tile(out + j, inp, w + j, C, so, si, so, R, V);
    for (; j + 8 <= OC; j += 8) forward_tile(out + j, inp, w + j, C, so, si, so, R, 1);
}

/* out (OC) += inp (C) · w (C, OC) for one row, each output summing its
 * inputs in order onto what out holds, zero inputs skipped: 64 outputs at a
 * time held in registers across all inputs. */
static ALWAYS_INLINE void forward_row(float *restrict out, const float *restrict inp, const float *restrict w, int C,
                                      int OC)
{
    int j0 = 0;
    for (; j0 + 64 <= OC; j0 += 64) {
        float acc[64];
        memcpy(acc, out + j0, sizeof acc);
        for (int i = 0; i < C; i++) {
            float xi = inp[i];
            if (xi == 0.0f) continue;
            const float *restrict wi = w + (size_t)i * OC + j0;
            for (int k = 0; k < 64; k++) acc[k] = fmaf(xi, wi[k], acc[k]);
        }
        memcpy(out + j0, acc, sizeof acc);
    }
    if (j0 == OC) return;
    for (int i = 0; i < C; i++) {
        float xi = inp[i];
        if (xi == 0.0f) continue;
        const float *restrict wi = w + (size_t)i * OC;
        for (int j = j0; j < OC; j++) out[j] = fmaf(xi, wi[j], out[j]);
    }
}

/* out (B, OC) = inp (B, C) · w (C, OC) + b (OC); tiles only when training
 * (evaluation blocks of 2 to MLP_LOOP_ROWS rows, the end of a data set, go
 * through sgemm like the rest of it). */
NN_HOT static void dense_forward(float *restrict out, const float *restrict inp, const float *restrict w,
                                 const float *restrict b, int B, int C, int OC, int train)
{
    for (int r = 0; r < B; r++) memcpy(out + (size_t)r * OC, b, (size_t)OC * sizeof(float));
    if (B > MLP_LOOP_ROWS || (B > 1 && !train)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, OC, C, 1.0f, inp, C, w, OC, 1.0f, out, OC);
        return;
    }
    if (B == 1) {
        forward_row(out, inp, w, C, OC);
        return;
    }
    EACH_ROW_GROUP(B, r, R, forward_rows(out + (size_t)r * OC, inp + (size_t)r * C, w, C, OC, R));
    int j0 = OC - OC % 8, t = OC - j0;
    if (t == 0) return;
    /* The last t columns as one zero-padded vector: w's in chunks of 256
     * inputs, the sums in pad between chunks (which holds them exactly). */
    float pad[MLP_LOOP_ROWS * 8], tw[256 * 8];
    for (int r = 0; r < B; r++)
        for (int k = 0; k < 8; k++) pad[8 * r + k] = k < t ? out[(size_t)r * OC + j0 + k] : 0.0f;
    for (int i0 = 0; i0 < C; i0 += 256) {
        int n = C - i0 < 256 ? C - i0 : 256;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 8; k++) tw[8 * i + k] = k < t ? w[(size_t)(i0 + i) * OC + j0 + k] : 0.0f;
        EACH_ROW_GROUP(B, r, R, forward_tile(pad + 8 * r, inp + (size_t)r * C + i0, tw, n, 8, (size_t)C, 8, R, 1));
    }
    for (int r = 0; r < B; r++)
        for (int k = 0; k < t; k++) out[(size_t)r * OC + j0 + k] = pad[8 * r + k];
}

/* The 32 partial sums of dot_sum added pairwise: s[k] + s[k+16], then
 * + s[k+8], and so on down to s[0]. */
static ALWAYS_INLINE float dot_total(float *restrict s)
{
    for (int k = 0; k < 16; k++) s[k] += s[k + 16];
    for (int k = 0; k < 8; k++) s[k] += s[k + 8];
    float t0 = s[0] + s[4], t1 = s[1] + s[5], t2 = s[2] + s[6], t3 = s[3] + s[7];
    return (t0 + t2) + (t1 + t3);
}

/* Σ_i a[i]·w[i·stride], the order of dot layers: 32 interleaved partial
 * sums (s[k] over i = k mod 32, in order of i; four vectors), added
 * pairwise. Independent multiply-add chains instead of one per output,
 * which a layer with few outputs needs, and rows of W transposed, which the
 * same layer's input gradient and update want (vectorized over inputs);
 * any stride gives the same bits, so W and W transposed agree. */
static ALWAYS_INLINE float dot_sum(const float *restrict a, const float *restrict w, int C, size_t stride)
{
    float s[32];
    for (int k = 0; k < 32; k++) s[k] = 0.0f;
    int i = 0;
    for (; i + 32 <= C; i += 32)
        for (int k = 0; k < 32; k++) s[k] = fmaf(a[i + k], w[(size_t)(i + k) * stride], s[k]);
    for (int k = 0; i + k < C; k++) s[k] = fmaf(a[i + k], w[(size_t)(i + k) * stride], s[k]);
    return dot_total(s);
}

/* out (OC) = inp (C) · w (C, OC) + b (OC), one row of a dot layer, from
 * w or, when wt is not NULL, from W transposed: wt (OC, C). */
NN_HOT static void dense_forward_dot(float *restrict out, const float *restrict inp, const float *restrict w,
                                     const float *restrict wt, const float *restrict b, int C, int OC)
{
    for (int j = 0; j < OC; j++)
        out[j] = b[j] + (wt ? dot_sum(inp, wt + (size_t)j * C, C, 1) : dot_sum(inp, w + j, C, (size_t)OC));
}

/* dinp (C) = w (C, OC) · dout (OC), one row. Four rows at a time: four
 * independent multiply-add chains instead of one (each row's sum keeps
 * its order, so the bits do not depend on the blocking). */
NN_HOT static void dense_input_grad_row(float *restrict dinp, const float *restrict dout, const float *restrict w,
                                        int C, int OC)
{
    int i = 0;
    for (; i + 4 <= C; i += 4) {
        const float *restrict w0 = w + (size_t)i * OC;
        float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
        for (int j = 0; j < OC; j++) {
            s0 = fmaf(w0[j], dout[j], s0);
            s1 = fmaf(w0[OC + j], dout[j], s1);
            s2 = fmaf(w0[2 * OC + j], dout[j], s2);
            s3 = fmaf(w0[3 * OC + j], dout[j], s3);
        }
        dinp[i] = s0, dinp[i + 1] = s1, dinp[i + 2] = s2, dinp[i + 3] = s3;
    }
    for (; i < C; i++) {
        const float *restrict wi = w + (size_t)i * OC;
        float s = 0.0f;
        for (int j = 0; j < OC; j++) s = fmaf(wi[j], dout[j], s);
        dinp[i] = s;
    }
}

/* dw (R rows from input i, 8V columns; stride sdw) = Σ over the B rows r
 * in order of inp[r][i]·dout[r][j] (inp's rows: stride si; dout's: sd), a
 * multiply-add chain from +0. */
static ALWAYS_INLINE void wgrad_tile(float *restrict dw, const float *restrict inp, const float *restrict dout, int B,
                                     size_t sdw, size_t si, size_t sd, int R, int V)
{
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
    for (int r = 0; r < B; r++) EACH_SUM(tile_fma, dout + (size_t)r * sd, inp + (size_t)r * si, 1, R, V);
    EACH_SUM(tile_store, dw, sdw, R, V);
}

/* wgrad_tile over R rows of dw from input i: 8/R vectors at a time, then
 * one; the last OC % 8 columns from tail, dout's last columns zero-padded
 * to 8 (B rows). */
static ALWAYS_INLINE void wgrad_rows(float *restrict dw, const float *restrict inp, const float *restrict dout,
                                     const float *restrict tail, int B, int C, int OC, int i, int R)
{
    int V = 8 / R, j = 0;
    size_t so = (size_t)OC, si = (size_t)C;
    float *restrict row = dw + (size_t)i * so;
    for (; j + 8 * V <= OC; j += 8 * V) wgrad_tile(row + j, inp + i, dout + j, B, so, si, so, R, V);
    for (; j + 8 <= OC; j += 8) wgrad_tile(row + j, inp + i, dout + j, B, so, si, so, R, 1);
    if (j == OC) return;
    float pad[4 * 8] = {0};
    wgrad_tile(pad, inp + i, tail, B, 8, si, 8, R, 1);
    for (int q = 0; q < R; q++)
        for (int k = 0; k < OC - j; k++) row[q * so + (size_t)(j + k)] = pad[8 * q + k];
}

/* dw (C, OC) = inp^T · dout; db (OC) = Σ_rows dout; dinp (B, C) = dout · w^T
 * (skipped when dinp is NULL: the input layer needs no input gradient).
 * dout (B, OC), inp (B, C), w (C, OC). One row: loops, zero inputs
 * skipped; up to MLP_LOOP_ROWS rows, dw[i][j] is a multiply-add chain over
 * the rows in order from +0 (tiles) and dinp comes from sgemm (vectorized
 * a row at a time, it needs W transposed for every batch: a run of
 * 64-256-256-10 took 1.8x to 2.4x the time at batches of 4 to 16; over the
 * rows, 1.09x to 1.28x); more rows: sgemm. */
NN_HOT static void dense_backward(float *restrict dinp, float *restrict dw, float *restrict db,
                                  const float *restrict dout, const float *restrict inp, const float *restrict w, int B,
                                  int C, int OC)
{
    memset(db, 0, (size_t)OC * sizeof(float));
    for (int r = 0; r < B; r++)
        for (int j = 0; j < OC; j++) db[j] += dout[(size_t)r * OC + j];
    if (B > MLP_LOOP_ROWS) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, B, 1.0f, inp, C, dout, OC, 0.0f, dw, OC);
        if (dinp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, C, OC, 1.0f, dout, OC, w, OC, 0.0f, dinp, C);
        return;
    }
    if (B == 1) {
        memset(dw, 0, (size_t)C * (size_t)OC * sizeof(float));
        for (int i = 0; i < C; i++) {
            float xi = inp[i];
            if (xi == 0.0f) continue;
            float *restrict dwi = dw + (size_t)i * OC;
            for (int j = 0; j < OC; j++) dwi[j] = fmaf(xi, dout[j], dwi[j]);
        }
        if (dinp) dense_input_grad_row(dinp, dout, w, C, OC);
        return;
    }
    float tail[MLP_LOOP_ROWS * 8];
    int j0 = OC - OC % 8;
    for (int r = 0; r < B; r++)
        for (int k = 0; k < 8; k++) tail[8 * r + k] = j0 + k < OC ? dout[(size_t)r * OC + j0 + k] : 0.0f;
    EACH_ROW_GROUP(C, i, R, wgrad_rows(dw, inp, dout, tail, B, C, OC, i, R)); /* rows of dw */
    if (dinp) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, C, OC, 1.0f, dout, OC, w, OC, 0.0f, dinp, C);
}

/* prob (B, C) = softmax(logits); cross-entropy as log Σ exp(z - max) - (z_y - max),
 * which stays finite when p_y underflows. */
NN_HOT static void softmax_xent(float *restrict prob, const float *restrict logits, const int32_t *y, int B, int C,
                                double *loss_sum, int *n_correct)
{
    for (int r = 0; r < B; r++) {
        const float *z = logits + (size_t)r * C;
        float *p = prob + (size_t)r * C;
        float mx = z[0];
        int arg = 0;
        for (int j = 1; j < C; j++)
            if (z[j] > mx) mx = z[j], arg = j;
        for (int j = 0; j < C; j++) p[j] = exp_approx(z[j] - mx);
        float s = 0.0f;
        for (int j = 0; j < C; j++) s += p[j];
        float inv = 1.0f / s;
        for (int j = 0; j < C; j++) p[j] *= inv;
        if (y) {
            *loss_sum += (double)(logf(s) - (z[y[r]] - mx));
            *n_correct += arg == y[r];
        }
    }
}

/* The input of dense layer l: the data, or the previous layer's (dropped) output. */
static const float *layer_input(const Mlp *m, const MlpWork *ws, const float *x, int l, int train)
{
    if (l == 0) return x;
    return train && m->dropout > 0.0f ? ws->drop[l - 1] : ws->act[l - 1];
}

/* Layer l's hidden output in ws->act[l] (B rows): act(z) in place, then,
 * in training mode with dropout, the masked copy in ws->drop[l]. */
static void hidden_output(const Mlp *m, MlpWork *ws, int l, int B, int train)
{
    size_t n = (size_t)B * (size_t)m->size[l + 1];
    float *out = ws->act[l];
    mlp_activation(out, n, m->activation);
    if (train && m->dropout > 0.0f)
        for (size_t i = 0; i < n; i++) ws->drop[l][i] = out[i] * ws->mask[l][i];
}

void mlp_forward(const Mlp *m, const float *params, MlpWork *ws, const float *x, const int32_t *y, int B, int train,
                 double *loss_sum, int *n_correct)
{
    int last = m->n_layers - 1;
    for (int l = 0; l < m->n_layers; l++) {
        const float *in = layer_input(m, ws, x, l, train), *w = params + m->w_off[l], *b = params + m->b_off[l];
        float *out = l == last ? ws->logits : ws->act[l];
        if (B == 1 && mlp_dot_layer(m, l))
            dense_forward_dot(out, in, w, NULL, b, m->size[l], m->size[l + 1]);
        else
            dense_forward(out, in, w, b, B, m->size[l], m->size[l + 1], train);
        if (l == last) break;
        hidden_output(m, ws, l, B, train);
    }
    softmax_xent(ws->act[last], ws->logits, y, B, m->size[m->n_layers], loss_sum, n_correct);
}

/* dz (B, C) = (p - onehot(y)) / B at the output. */
static void output_grad(float *restrict dz, const float *restrict p, const int32_t *y, int B, int C)
{
    float inv_b = 1.0f / (float)B;
    for (int r = 0; r < B; r++)
        for (int j = 0; j < C; j++)
            dz[(size_t)r * C + j] = (p[(size_t)r * C + j] - (j == y[r] ? 1.0f : 0.0f)) * inv_b;
}

/* From the gradient at layer l's input (dnext, B rows) to the gradient at
 * layer l-1's pre-activation: through dropout's mask and act'. */
static void hidden_grad(const Mlp *m, MlpWork *ws, float *dnext, int l, int B)
{
    size_t n = (size_t)B * (size_t)m->size[l];
    if (m->dropout > 0.0f)
        for (size_t i = 0; i < n; i++) dnext[i] *= ws->mask[l - 1][i];
    activation_backward(dnext, ws->act[l - 1], n, m->activation);
}

void mlp_backward(const Mlp *m, const float *params, float *grads, MlpWork *ws, const float *x, const int32_t *y,
                  int B, float l2)
{
    int last = m->n_layers - 1;
    float *dz = ws->delta[0], *dnext = ws->delta[1];
    output_grad(dz, ws->act[last], y, B, m->size[m->n_layers]);
    for (int l = last; l >= 0; l--) {
        int in = m->size[l], out = m->size[l + 1];
        const float *w = params + m->w_off[l];
        float *dw = grads + m->w_off[l];
        dense_backward(l > 0 ? dnext : NULL, dw, grads + m->b_off[l], dz, layer_input(m, ws, x, l, 1), w, B, in, out);
        if (l2 != 0.0f) {
            size_t n = (size_t)in * (size_t)out;
            for (size_t i = 0; i < n; i++) dw[i] += l2 * w[i];
        }
        if (l == 0) break;
        hidden_grad(m, ws, dnext, l, B);
        float *t = dz;
        dz = dnext;
        dnext = t;
    }
}

/* sgd_row_update's expression for one weight w with input x and output
 * gradient d, whose gradient is fma(x, d, +0) (mlp_backward's sum from 0).
 * Here it is x·d, one multiply that needs no zero register (the fused first
 * layer's loop runs 9% faster): the two differ only when x·d is exactly 0,
 * -0 against +0, and then w - lr·(±0) = w unless w is -0, which no weight
 * ever is (mlp_init makes none, and w - u is -0 only for w = -0). So the
 * bits are those of the general step; and without L2 a weight of a zero
 * input keeps its bits, as in the rows that sgd_row_update skips. */
static ALWAYS_INLINE float sgd_weight(float w, float x, float d, float lr, float l2)
{
    float g = x * d;
    if (l2 != 0.0f) g += l2 * w;
    return w - lr * g;
}

/* A per-example step: the optimizer (OptimKind), learning rate, L2,
 * momentum, and for adam, adamw and rmsprop their constants, those of this
 * step's t included (optim_step_const). The kernels below take it by value
 * and are inlined with kind and whether there is L2 as constants (see
 * WITH_CONST_STEP). A parameter's state is at v (its first buffer) and, for
 * adam and adamw, v + off2 (its second): off2 is n_params in the params'
 * layout, C·OC in a dot layer's transposed state. */
typedef struct {
    int kind;
    float lr, l2, mu;
    float b1, c1, b2, c2, eps; /* β1, 1 − β1, β2 (rmsprop: α), 1 − β2 (1 − α), ε */
    float step, rb2, decay;     /* optim_step_const */
    size_t off2;
} Step;

/* The adaptive kinds: a state update that reads g², no velocity form. */
#define ADAPTIVE(kind) ((kind) == OPT_ADAM || (kind) == OPT_ADAMW || (kind) == OPT_RMSPROP)

/* The momentum or Nesterov step of a parameter p with gradient g, its
 * velocity *v updated: optim_step's expressions. */
static ALWAYS_INLINE float velocity_step(float p, float *v, float g, Step s)
{
    float u = s.mu * *v + g;
    *v = u;
    return s.kind == OPT_MOMENTUM ? p - s.lr * u : p - s.lr * (g + s.mu * u);
}

/* The adam, adamw or rmsprop step of a parameter p with gradient g, its
 * state *v (and *v2) updated: optim_step's expressions. `weight`: adamw
 * decays weights, not biases. */
static ALWAYS_INLINE float adaptive_step(float p, float *v, float *v2, float g, Step s, int weight)
{
    if (s.kind == OPT_RMSPROP) {
        float q = s.b2 * *v + s.c2 * (g * g);
        *v = q;
        return p - s.lr * (g / (sqrtf(q) + s.eps));
    }
    if (s.kind == OPT_ADAMW && weight) p *= s.decay;
    float m = s.b1 * *v + s.c1 * g, q = s.b2 * *v2 + s.c2 * (g * g);
    *v = m, *v2 = q;
    return p - s.step * (m / (sqrtf(q) * s.rb2 + s.eps));
}

/* One weight's step: sgd_weight, or for the others the gradient
 * fma(x, d, +0) (+ l2·w), mlp_backward's to the bit (+0 for a zero input,
 * whose row mlp_backward skips), then velocity_step or adaptive_step. v (and
 * v2) are not touched by SGD (v2 only by adam and adamw). */
static ALWAYS_INLINE float step_weight(float w, float *v, float *v2, float x, float d, Step s)
{
    if (s.kind == OPT_SGD) return sgd_weight(w, x, d, s.lr, s.l2);
    float g = fmaf(x, d, 0.0f);
    if (s.l2 != 0.0f) g += s.l2 * w;
    return ADAPTIVE(s.kind) ? adaptive_step(w, v, v2, g, s, 1) : velocity_step(w, v, g, s);
}

/* A bias's step: its gradient is 0 + d (mlp_backward's sum from 0), no L2. */
static ALWAYS_INLINE float step_bias(float b, float *v, float *v2, float d, Step s)
{
    float g = 0.0f + d;
    if (s.kind == OPT_SGD) return b - s.lr * g;
    return ADAPTIVE(s.kind) ? adaptive_step(b, v, v2, g, s, 0) : velocity_step(b, v, g, s);
}

/* v + i, or NULL for SGD, which has no state (and never offsets NULL). */
static ALWAYS_INLINE float *vel_at(float *v, size_t i, Step s)
{
    return s.kind == OPT_SGD ? NULL : v + i;
}

/* The second state of v + i (adam, adamw), or NULL. */
static ALWAYS_INLINE float *vel2_at(float *v, size_t i, Step s)
{
    return s.kind == OPT_ADAM || s.kind == OPT_ADAMW ? v + s.off2 + i : NULL;
}

/* One layer's update from one example, without a gradient buffer:
 * w[i][j] = step_weight(w[i][j], x_i, dz_j), v and vb the velocities of w
 * and b (NULL for SGD): the bits of mlp_backward (whose gradient starts at
 * 0) + optim_step. With SGD and no L2, rows with x_i = 0 change by exactly
 * 0 and are skipped. Once per epoch: no constants needed. */
static void sgd_row_update(float *restrict w, float *restrict v, float *restrict b, float *restrict vb,
                           const float *restrict x, const float *restrict dz, int C, int OC, Step s)
{
    for (int i = 0; i < C; i++) {
        float xi = x[i];
        float *restrict wi = w + (size_t)i * OC, *restrict vi = vel_at(v, (size_t)i * OC, s);
        if (s.kind == OPT_SGD && s.l2 == 0.0f && xi == 0.0f) continue;
        for (int j = 0; j < OC; j++) wi[j] = step_weight(wi[j], vel_at(vi, j, s), vel2_at(vi, j, s), xi, dz[j], s);
    }
    for (int j = 0; j < OC; j++) b[j] = step_bias(b[j], vel_at(vb, j, s), vel2_at(vb, j, s), dz[j], s);
}

/* dense_input_grad_row from W transposed, wt (OC, C): the same sums (over j
 * in order, from 0), vectorized over i, 64 inputs at a time. */
NN_HOT static void dense_input_grad_t(float *restrict dinp, const float *restrict dout, const float *restrict wt, int C,
                                      int OC)
{
    int i0 = 0;
    for (; i0 + 64 <= C; i0 += 64) {
        v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
        for (int j = 0; j < OC; j++) {
            const float *restrict wj = wt + (size_t)j * C + i0;
            float d = dout[j];
            v8_fma(&s0, wj, d), v8_fma(&s1, wj + 8, d), v8_fma(&s2, wj + 16, d), v8_fma(&s3, wj + 24, d);
            v8_fma(&s4, wj + 32, d), v8_fma(&s5, wj + 40, d), v8_fma(&s6, wj + 48, d), v8_fma(&s7, wj + 56, d);
        }
        memcpy(dinp + i0, &s0, sizeof s0), memcpy(dinp + i0 + 8, &s1, sizeof s1);
        memcpy(dinp + i0 + 16, &s2, sizeof s2), memcpy(dinp + i0 + 24, &s3, sizeof s3);
        memcpy(dinp + i0 + 32, &s4, sizeof s4), memcpy(dinp + i0 + 40, &s5, sizeof s5);
        memcpy(dinp + i0 + 48, &s6, sizeof s6), memcpy(dinp + i0 + 56, &s7, sizeof s7);
    }
    for (; i0 + 8 <= C; i0 += 8) {
        v8f s0 = {0};
        for (int j = 0; j < OC; j++) v8_fma(&s0, wt + (size_t)j * C + i0, dout[j]);
        memcpy(dinp + i0, &s0, sizeof s0);
    }
    for (; i0 < C; i0++) {
        float t = 0.0f;
        for (int j = 0; j < OC; j++) t = fmaf(wt[(size_t)j * C + i0], dout[j], t);
        dinp[i0] = t;
    }
}

/* Runs stmt with c, a copy of the Step s whose kind and whether there is
 * L2 are constants where stmt's callee is inlined (a branch on l2 that is
 * not would be if-converted: both sides computed, then blended). */
#define WITH_CONST_STEP(s, c, stmt)                                                                                    \
    do {                                                                                                               \
        if ((s).l2 != 0.0f)                                                                                            \
            WITH_CONST_KIND(s, (s).l2, c, stmt);                                                                       \
        else                                                                                                           \
            WITH_CONST_KIND(s, 0.0f, c, stmt);                                                                         \
    } while (0)
#define WITH_CONST_KIND(s, l2v, c, stmt)                                                                               \
    do {                                                                                                               \
        switch ((s).kind) {                                                                                            \
        case OPT_MOMENTUM: {                                                                                           \
            const Step c = CONST_STEP(s, OPT_MOMENTUM, l2v);                                                           \
            stmt;                                                                                                      \
        } break;                                                                                                       \
        case OPT_NESTEROV: {                                                                                           \
            const Step c = CONST_STEP(s, OPT_NESTEROV, l2v);                                                           \
            stmt;                                                                                                      \
        } break;                                                                                                       \
        case OPT_ADAM: {                                                                                               \
            const Step c = CONST_STEP(s, OPT_ADAM, l2v);                                                               \
            stmt;                                                                                                      \
        } break;                                                                                                       \
        case OPT_ADAMW: {                                                                                              \
            const Step c = CONST_STEP(s, OPT_ADAMW, l2v);                                                              \
            stmt;                                                                                                      \
        } break;                                                                                                       \
        case OPT_RMSPROP: {                                                                                            \
            const Step c = CONST_STEP(s, OPT_RMSPROP, l2v);                                                            \
            stmt;                                                                                                      \
        } break;                                                                                                       \
        default: {                                                                                                     \
            const Step c = CONST_STEP(s, OPT_SGD, l2v);                                                                \
            stmt;                                                                                                      \
        }                                                                                                              \
        }                                                                                                              \
    } while (0)
#define CONST_STEP(s, K, l2v)                                                                                          \
    {K, (s).lr, l2v, (s).mu, (s).b1, (s).c1, (s).b2, (s).c2, (s).eps, (s).step, (s).rb2, (s).decay, (s).off2}

/* One row of wt (one output; v its velocity): apply the pending update
 * (input a, output gradient d) and return dot_sum(an, updated row) with
 * dot_sum's bits. */
static ALWAYS_INLINE float sgd_dot_row(const float *restrict an, float *restrict w, float *restrict v,
                                       const float *restrict a, float d, int C, Step st)
{
    float s[32];
    for (int k = 0; k < 32; k++) s[k] = 0.0f;
    int i = 0;
    for (; i + 32 <= C; i += 32)
        for (int k = 0; k < 32; k++) {
            float u = step_weight(w[i + k], vel_at(v, (size_t)(i + k), st), vel2_at(v, (size_t)(i + k), st), a[i + k], d, st);
            w[i + k] = u;
            s[k] = fmaf(an[i + k], u, s[k]);
        }
    for (int k = 0; i + k < C; k++) {
        float u = step_weight(w[i + k], vel_at(v, (size_t)(i + k), st), vel2_at(v, (size_t)(i + k), st), a[i + k], d, st);
        w[i + k] = u;
        s[k] = fmaf(an[i + k], u, s[k]);
    }
    return dot_total(s);
}

/* dot_total of 32 partial sums held as four 8-lane vectors (lane k of sN is
 * s[8N + k]), a vector at a time. */
static ALWAYS_INLINE float dot_total8(const v8f *s)
{
    v8f s0 = s[0] + s[2], s1 = s[1] + s[3]; /* vectors by pointer: by value they would change the ABI */
    s0 += s1;
    v4f lo = {s0[0], s0[1], s0[2], s0[3]}, hi = {s0[4], s0[5], s0[6], s0[7]};
    v4f t = lo + hi;
    return (t[0] + t[2]) + (t[1] + t[3]);
}

/* *out = the square roots of *a's 8 lanes, through arrays, whose loop GCC
 * vectorizes (vsqrtps); indexing the vector itself left 8 scalar square
 * roots. By pointer, as step_lanes' vectors. */
static ALWAYS_INLINE void sqrt_lanes(v8f *out, const v8f *a)
{
    float in[8], r[8];
    memcpy(in, a, sizeof in);
    for (int k = 0; k < 8; k++) r[k] = sqrtf(in[k]);
    memcpy(out, r, sizeof r);
}

/* step_weight on 8 lanes: weights *u with states *q and *r (not touched
 * by SGD; r only by adam and adamw), inputs *x, output gradient d. Vectors
 * by pointer: by value they would change the ABI. */
static ALWAYS_INLINE void step_lanes(v8f *u, v8f *q, v8f *r, const v8f *x, float d, Step st)
{
    if (ADAPTIVE(st.kind)) { /* adaptive_step in vector operations: per lane, GCC would not vectorize it */
        v8f g, den;
        for (int k = 0; k < 8; k++) g[k] = fmaf((*x)[k], d, 0.0f);
        if (st.l2 != 0.0f) g += st.l2 * *u;
        if (st.kind == OPT_RMSPROP) {
            *q = st.b2 * *q + st.c2 * (g * g);
            sqrt_lanes(&den, q);
            den += st.eps;
            *u = *u - st.lr * (g / den);
            return;
        }
        if (st.kind == OPT_ADAMW) *u = *u * st.decay;
        *q = st.b1 * *q + st.c1 * g;
        *r = st.b2 * *r + st.c2 * (g * g);
        sqrt_lanes(&den, r);
        den = den * st.rb2 + st.eps;
        *u = *u - st.step * (*q / den);
        return;
    }
    /* sgd_weight and velocity_step in vector operations too: a loop over the
     * lanes calling them was left scalar once the adaptive branch above made
     * this function larger (the tutorial's per-example runs took 2x as long) */
    if (st.kind == OPT_SGD) {
        v8f g = *x * d;
        if (st.l2 != 0.0f) g += st.l2 * *u;
        *u = *u - st.lr * g;
        return;
    }
    v8f g;
    for (int k = 0; k < 8; k++) g[k] = fmaf((*x)[k], d, 0.0f);
    if (st.l2 != 0.0f) g += st.l2 * *u;
    v8f v = st.mu * *q + g;
    *q = v;
    *u = st.kind == OPT_MOMENTUM ? *u - st.lr * v : *u - st.lr * (g + st.mu * v);
}

/* Weights i..i+8 of sgd_dot_row for one row of wt, w0 (velocity v0, output
 * gradient d0), or with two (constant where inlined) also for w1 (v1, d1;
 * NULL without), sharing the loads of a and an: update them, then *s (and
 * *t) += an · w lane-wise. */
static ALWAYS_INLINE void sgd_dot_block(v8f *restrict s, v8f *restrict t, const float *restrict an,
                                        float *restrict w0, float *restrict w1, float *restrict v0,
                                        float *restrict v1, const float *restrict a, int i, float d0, float d1,
                                        Step st, int two)
{
    v8f av, nv, u0, u1 = {0}, q0 = {0}, q1 = {0}, r0 = {0}, r1 = {0};
    int second = st.kind == OPT_ADAM || st.kind == OPT_ADAMW;
    memcpy(&av, a + i, sizeof av);
    memcpy(&nv, an + i, sizeof nv);
    memcpy(&u0, w0 + i, sizeof u0);
    if (two) memcpy(&u1, w1 + i, sizeof u1);
    if (st.kind != OPT_SGD) {
        memcpy(&q0, v0 + i, sizeof q0);
        if (two) memcpy(&q1, v1 + i, sizeof q1);
    }
    if (second) {
        memcpy(&r0, v0 + st.off2 + i, sizeof r0);
        if (two) memcpy(&r1, v1 + st.off2 + i, sizeof r1);
    }
    step_lanes(&u0, &q0, &r0, &av, d0, st);
    if (two) step_lanes(&u1, &q1, &r1, &av, d1, st);
    memcpy(w0 + i, &u0, sizeof u0);
    if (two) memcpy(w1 + i, &u1, sizeof u1);
    if (st.kind != OPT_SGD) {
        memcpy(v0 + i, &q0, sizeof q0);
        if (two) memcpy(v1 + i, &q1, sizeof q1);
    }
    if (second) {
        memcpy(v0 + st.off2 + i, &r0, sizeof r0);
        if (two) memcpy(v1 + st.off2 + i, &r1, sizeof r1);
    }
    for (int k = 0; k < 8; k++) (*s)[k] = fmaf(nv[k], u0[k], (*s)[k]);
    if (two)
        for (int k = 0; k < 8; k++) (*t)[k] = fmaf(nv[k], u1[k], (*t)[k]);
}

/* sgd_dot_row for C a multiple of 8, its partial sums as dot_total8's, for
 * one row of wt (out[0]; w1, v1 NULL) or two (out[0..2), rows w0 and w1) in
 * one pass over a and an: each row's bits are sgd_dot_row's. Two rows at a
 * time take 0.9x the time of one at a time, measured on the tutorial's
 * 200 -> 10 layer. */
static ALWAYS_INLINE void sgd_dot_rows8(float *restrict out, const float *restrict an, float *restrict w0,
                                        float *restrict w1, float *restrict v0, float *restrict v1,
                                        const float *restrict a, float d0, float d1, int C, Step st, int two)
{
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, t0 = {0}, t1 = {0}, t2 = {0}, t3 = {0};
    int i = 0;
    for (; i + 32 <= C; i += 32) {
        sgd_dot_block(&s0, &t0, an, w0, w1, v0, v1, a, i, d0, d1, st, two);
        sgd_dot_block(&s1, &t1, an, w0, w1, v0, v1, a, i + 8, d0, d1, st, two);
        sgd_dot_block(&s2, &t2, an, w0, w1, v0, v1, a, i + 16, d0, d1, st, two);
        sgd_dot_block(&s3, &t3, an, w0, w1, v0, v1, a, i + 24, d0, d1, st, two);
    }
    if (i + 8 <= C) sgd_dot_block(&s0, &t0, an, w0, w1, v0, v1, a, i, d0, d1, st, two);
    if (i + 16 <= C) sgd_dot_block(&s1, &t1, an, w0, w1, v0, v1, a, i + 8, d0, d1, st, two);
    if (i + 24 <= C) sgd_dot_block(&s2, &t2, an, w0, w1, v0, v1, a, i + 16, d0, d1, st, two);
    v8f s[4] = {s0, s1, s2, s3}, t[4] = {t0, t1, t2, t3};
    out[0] = dot_total8(s);
    if (two) out[1] = dot_total8(t);
}

/* A dot layer's pending update (input a (C), output gradient d (OC), bias
 * already updated; vt the transposed velocity) fused with the next
 * example's forward pass through the updated weights: out (OC) = b + an · W.
 * Each weight is read and written once instead of read twice and written
 * once; the bits are those of sgd_update_t then dense_forward_dot. */
static ALWAYS_INLINE void forward_t(float *restrict out, const float *restrict an, float *restrict wt,
                                    float *restrict vt, const float *restrict b, const float *restrict a,
                                    const float *restrict d, int C, int OC, Step st)
{
    for (int j = 0; j < OC;) {
        float *wj = wt + (size_t)j * C, *vj = vel_at(vt, (size_t)j * C, st), t[2];
        int n = C % 8 ? 1 : OC - j >= 2 ? 2 : 1; /* rows in this pass */
        if (C % 8)
            t[0] = sgd_dot_row(an, wj, vj, a, d[j], C, st);
        else if (n == 2)
            sgd_dot_rows8(t, an, wj, wj + C, vj, vel_at(vj, (size_t)C, st), a, d[j], d[j + 1], C, st, 1);
        else
            sgd_dot_rows8(t, an, wj, NULL, vj, NULL, a, d[j], 0.0f, C, st, 0);
        for (int k = 0; k < n; k++, j++) out[j] = b[j] + t[k];
    }
}

NN_HOT static void sgd_forward_t(float *restrict out, const float *restrict an, float *restrict wt, float *restrict vt,
                                 const float *restrict b, const float *restrict a, const float *restrict d, int C,
                                 int OC, Step st)
{
    WITH_CONST_STEP(st, c, forward_t(out, an, wt, vt, b, a, d, C, OC, c));
}

/* Apply a dot layer's pending update alone (at the end of an epoch). */
static void sgd_update_t(float *restrict wt, float *restrict vt, const float *restrict a, const float *restrict d,
                         int C, int OC, Step st)
{
    for (int j = 0; j < OC; j++)
        for (int i = 0; i < C; i++) {
            size_t k = (size_t)j * C + i;
            wt[k] = step_weight(wt[k], vel_at(vt, k, st), vel2_at(vt, k, st), a[i], d[j], st);
        }
}

/* n (1 to 4, constant where inlined) rows of sgd_forward_layer0 (w0..w3,
 * velocities v0..v3, inputs x·, next inputs n·): update each and add them
 * to z in row order. Rows past n are not touched. */
static ALWAYS_INLINE void sgd_forward_rows(float *restrict w0, float *restrict w1, float *restrict w2,
                                           float *restrict w3, float *restrict v0, float *restrict v1,
                                           float *restrict v2, float *restrict v3, const float *restrict x4,
                                           const float *restrict n4, const float *restrict dz, float *restrict z,
                                           int OC, Step st, int n)
{
    for (int j = 0; j < OC; j++) {
        float d = dz[j], u;
        u = step_weight(w0[j], vel_at(v0, (size_t)j, st), vel2_at(v0, (size_t)j, st), x4[0], d, st), w0[j] = u;
        float acc = fmaf(n4[0], u, z[j]);
        if (n > 1)
            u = step_weight(w1[j], vel_at(v1, (size_t)j, st), vel2_at(v1, (size_t)j, st), x4[1], d, st), w1[j] = u, acc = fmaf(n4[1], u, acc);
        if (n > 2)
            u = step_weight(w2[j], vel_at(v2, (size_t)j, st), vel2_at(v2, (size_t)j, st), x4[2], d, st), w2[j] = u, acc = fmaf(n4[2], u, acc);
        if (n > 3)
            u = step_weight(w3[j], vel_at(v3, (size_t)j, st), vel2_at(v3, (size_t)j, st), x4[3], d, st), w3[j] = u, acc = fmaf(n4[3], u, acc);
        z[j] = acc;
    }
}

/* sgd_forward_rows for the n rows i[0..n) of w (velocity v). */
static ALWAYS_INLINE void sgd_forward_group(float *restrict w, float *restrict v, const int *restrict i,
                                            const float *restrict x, const float *restrict xn,
                                            const float *restrict dz, float *restrict z, int OC, Step st, int n)
{
    float x4[4], n4[4];
    float *wr[4], *vr[4] = {NULL, NULL, NULL, NULL};
    for (int k = 0; k < 4; k++) { /* rows past n repeat the first, untouched */
        int q = i[k < n ? k : 0];
        x4[k] = x[q], n4[k] = xn[q], wr[k] = w + (size_t)q * OC;
        if (st.kind != OPT_SGD) vr[k] = v + (size_t)q * OC;
    }
    sgd_forward_rows(wr[0], wr[1], wr[2], wr[3], vr[0], vr[1], vr[2], vr[3], x4, n4, dz, z, OC, st, n);
}

/* The first layer's sgd_row_update with example x, fused with the next
 * example's dense_forward through the updated weights: z (OC) = b + xn · w.
 * Each row of w is loaded and stored once instead of being read twice and
 * written once, four rows at a time so z makes one trip per four rows; with
 * SGD and no L2, only rows where x or xn is nonzero (with momentum or L2
 * every weight changes every step).
 * Both steps run unconditionally on those rows instead of branching on
 * unpredictable zero pixels, with the same bits for finite values: with
 * x_i = 0, x·dz = ±0 and w - lr·(±0) = w (see sgd_weight); with xn_i = 0,
 * fma(0, w, acc) = acc because acc is never -0 (it starts at b, and neither
 * a bias step from b = +0 nor a sum that cancels exactly gives -0; only a
 * sum that underflows from below, with products under 1e-45, could).
 * rows (C) is scratch. */
static ALWAYS_INLINE void forward_layer0(float *restrict w, float *restrict v, float *restrict b,
                                         float *restrict vb, const float *restrict x, const float *restrict dz,
                                         const float *restrict xn, float *restrict z, int *restrict rows, int C,
                                         int OC, Step st)
{
    int nr = 0;
    if (st.kind != OPT_SGD || st.l2 != 0.0f)
        for (; nr < C; nr++) rows[nr] = nr;
    else
        for (int i0 = 0; i0 < C; i0 += 64) { /* no branch: the pixels are unpredictable */
            int n = C - i0 < 64 ? C - i0 : 64;
            unsigned char nz[64];
            for (int k = 0; k < n; k++) { /* x != 0 || xn != 0 on the bits, which vectorizes: */
                uint32_t a, c;           /* only ±0 shift to 0 (NaN counts as nonzero, as for != 0) */
                memcpy(&a, x + i0 + k, sizeof a);
                memcpy(&c, xn + i0 + k, sizeof c);
                nz[k] = ((a | c) << 1) != 0;
            }
            for (int k = 0; k < n; k++) {
                rows[nr] = i0 + k;
                nr += nz[k];
            }
        }
    for (int j = 0; j < OC; j++) z[j] = b[j] = step_bias(b[j], vel_at(vb, (size_t)j, st), vel2_at(vb, (size_t)j, st), dz[j], st);
    int r = 0;
    for (; r + 4 <= nr; r += 4) sgd_forward_group(w, v, rows + r, x, xn, dz, z, OC, st, 4);
    switch (nr - r) { /* the last one to three rows */
    case 3: sgd_forward_group(w, v, rows + r, x, xn, dz, z, OC, st, 3); break;
    case 2: sgd_forward_group(w, v, rows + r, x, xn, dz, z, OC, st, 2); break;
    case 1: sgd_forward_group(w, v, rows + r, x, xn, dz, z, OC, st, 1); break;
    }
}

NN_HOT static void sgd_forward_layer0(float *restrict w, float *restrict v, float *restrict b, float *restrict vb,
                                      const float *restrict x, const float *restrict dz, const float *restrict xn,
                                      float *restrict z, int *restrict rows, int C, int OC, Step st)
{
    WITH_CONST_STEP(st, c, forward_layer0(w, v, b, vb, x, dz, xn, z, rows, C, OC, c));
}

/* n biases' steps (velocities vb, NULL for SGD) with output gradients dz. */
static ALWAYS_INLINE void step_biases(float *restrict b, float *restrict vb, const float *restrict dz, int n, Step st)
{
    for (int j = 0; j < n; j++) b[j] = step_bias(b[j], vel_at(vb, (size_t)j, st), vel2_at(vb, (size_t)j, st), dz[j], st);
}

static void sgd_biases(float *restrict b, float *restrict vb, const float *restrict dz, int n, Step st)
{
    WITH_CONST_STEP(st, c, step_biases(b, vb, dz, n, c));
}

/* dst (cols, rows) = src (rows, cols) transposed. */
static void transpose(float *restrict dst, const float *restrict src, int rows, int cols)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) dst[(size_t)j * rows + i] = src[(size_t)i * cols + j];
}

/* st for a dot layer l's transposed state, whose second buffer (adam,
 * adamw) follows its first in ws->vt[l]. */
static Step transposed(Step st, int l, const Mlp *m)
{
    st.off2 = (size_t)m->size[l] * (size_t)m->size[l + 1];
    return st;
}

/* The per-example Step of o at step t (its constants, for the adaptive
 * kinds), with L2 l2, for the params' layout. */
static Step step_of(const Optim *o, int64_t t, float l2, const Mlp *m)
{
    Step st = {o->kind, o->lr, l2, 0.0f, 0, 0, 0, 0, 0, 0, 0, 1.0f, m->n_params};
    if (o->kind == OPT_MOMENTUM || o->kind == OPT_NESTEROV) st.mu = o->momentum;
    if (o->kind == OPT_ADAM || o->kind == OPT_ADAMW) {
        OptimStepConst k = optim_step_const(o, t);
        st.b1 = o->beta1, st.c1 = 1.0f - o->beta1, st.b2 = o->beta2, st.c2 = 1.0f - o->beta2;
        st.eps = o->eps, st.step = k.step, st.rb2 = k.rsqrt_bc2, st.decay = k.decay;
    }
    if (o->kind == OPT_RMSPROP) st.b2 = o->alpha, st.c2 = 1.0f - o->alpha, st.eps = o->eps;
    return st;
}

/* Transpose the later layers' W and state into ws (to = 1), or back. */
static void transpose_state(const Mlp *m, float *params, float *state, MlpWork *ws, int kind, int to)
{
    int ns = optim_n_state(kind);
    for (int l = 1; l < m->n_layers; l++) {
        int C = m->size[l], OC = m->size[l + 1];
        for (int k = 0; k <= ns; k++) { /* W, then each state buffer */
            float *p = k == 0 ? params + m->w_off[l] : state + (size_t)(k - 1) * m->n_params + m->w_off[l];
            float *t = k == 0 ? ws->wt[l] : ws->vt[l] + (size_t)(k - 1) * C * OC;
            if (to)
                transpose(t, p, C, OC);
            else
                transpose(p, t, OC, C);
        }
    }
}

/* The forward pass of one example from its first layer's pre-activation,
 * already in ws->act[0] (ws->logits without hidden layers). Later layers
 * read their transposed W and, when pending (not the first example of the
 * epoch), apply the previous example's update on the way. */
static void forward_rest(const Mlp *m, const float *params, MlpWork *ws, int pending, Step st)
{
    /* st is the pending step's; its state in the transposed layout: */
    int last = m->n_layers - 1;
    for (int l = 0; l < m->n_layers; l++) {
        float *out = l == last ? ws->logits : ws->act[l];
        if (l > 0) {
            const float *in = layer_input(m, ws, NULL, l, 1), *b = params + m->b_off[l];
            int C = m->size[l], OC = m->size[l + 1];
            if (pending)
                sgd_forward_t(out, in, ws->wt[l], ws->vt[l], b, ws->pend_a[l], ws->pend_d[l], C, OC,
                              transposed(st, l, m));
            else
                dense_forward_dot(out, in, NULL, ws->wt[l], b, C, OC);
        }
        if (l == last) break;
        hidden_output(m, ws, l, 1, 1);
    }
    softmax_xent(ws->act[last], ws->logits, NULL, 1, m->size[m->n_layers], NULL, NULL);
}

void mlp_sgd_examples(const Mlp *m, float *params, float *vel, MlpWork *ws, const float *x, const int32_t *y,
                      const int32_t *order, int n, Optim *o, float l2, Rng *rng)
{
    int last = m->n_layers - 1, n_in = m->size[0];
    int64_t t0 = o->t;
    int per_step = o->kind == OPT_ADAM || o->kind == OPT_ADAMW; /* constants that change with t */
    Step st = step_of(o, t0 + 1, l2, m), prev = st;
    float *w0 = params + m->w_off[0], *b0 = params + m->b_off[0];
    float *v0 = vel_at(vel, m->w_off[0], st), *vb0 = vel_at(vel, m->b_off[0], st);
    float *z0 = last == 0 ? ws->logits : ws->act[0];
    transpose_state(m, params, vel, ws, o->kind, 1);
    if (n > 0) dense_forward(z0, x + (size_t)(order ? order[0] : 0) * n_in, w0, b0, 1, n_in, m->size[1], 1);
    for (int t = 0; t < n; t++) {
        int row = order ? order[t] : t;
        const float *xt = x + (size_t)row * n_in;
        if (per_step) st = step_of(o, t0 + t + 1, l2, m);
        mlp_dropout_sample(m, ws, 1, rng);
        forward_rest(m, params, ws, t > 0, prev);
        float *dz = ws->delta[0], *dnext = ws->delta[1];
        output_grad(dz, ws->act[last], y + row, 1, m->size[m->n_layers]);
        for (int l = last; l > 0; l--) {
            int in = m->size[l], out = m->size[l + 1];
            float *b = params + m->b_off[l], *vb = vel_at(vel, m->b_off[l], st);
            const float *a = layer_input(m, ws, NULL, l, 1);
            /* the input gradient with W before its update, which waits for the next example's forward pass */
            dense_input_grad_t(dnext, dz, ws->wt[l], in, out);
            memcpy(ws->pend_a[l], a, (size_t)in * sizeof(float));
            memcpy(ws->pend_d[l], dz, (size_t)out * sizeof(float));
            sgd_biases(b, vb, dz, out, st);
            hidden_grad(m, ws, dnext, l, 1);
            float *tmp = dz;
            dz = dnext;
            dnext = tmp;
        }
        if (t + 1 < n)
            sgd_forward_layer0(w0, v0, b0, vb0, xt, dz, x + (size_t)(order ? order[t + 1] : t + 1) * n_in, z0,
                               ws->rows, n_in, m->size[1], st);
        else
            sgd_row_update(w0, v0, b0, vb0, xt, dz, n_in, m->size[1], st);
        prev = st;
    }
    for (int l = 1; l < m->n_layers && n > 0; l++)
        sgd_update_t(ws->wt[l], ws->vt[l], ws->pend_a[l], ws->pend_d[l], m->size[l], m->size[l + 1],
                     transposed(prev, l, m));
    transpose_state(m, params, vel, ws, o->kind, 0);
    o->t = t0 + n;
}

void mlp_step(const Mlp *m, Optim *o, float *params, const float *grads, float *state)
{
    size_t np = m->n_params;
    int ns = optim_n_state(o->kind);
    optim_step_begin(o);
    for (int l = 0; l < m->n_layers; l++)
        for (int w = 1; w >= 0; w--) { /* W, then b */
            size_t off = w ? m->w_off[l] : m->b_off[l];
            size_t n = w ? (size_t)m->size[l] * (size_t)m->size[l + 1] : (size_t)m->size[l + 1];
            float *s1 = ns > 0 ? state + off : NULL, *s2 = ns > 1 ? state + np + off : NULL;
            optim_step(o, params + off, grads + off, s1, s2, n, w);
        }
}

double mlp_l2_penalty(const Mlp *m, const float *params, float l2)
{
    double s = 0.0;
    for (int l = 0; l < m->n_layers; l++) {
        const float *w = params + m->w_off[l];
        size_t n = (size_t)m->size[l] * (size_t)m->size[l + 1];
        for (size_t i = 0; i < n; i++) s += (double)w[i] * (double)w[i];
    }
    return 0.5 * (double)l2 * s;
}

#define MLP_CLONES ": the clone this CPU runs, of x86-64-v4, x86-64-v3 and default"
#define MLP_ONE_ISA ": compiled once, for this build's -march (NNLAB_ONE_ISA)"

const char *mlp_kernel_name(void)
{
    /* the condition under which nnlab.h makes NN_HOT target_clones */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NNLAB_ONE_ISA)
#if __GNUC__ >= 12
    /* the resolver's own test: libgcc's __cpu_indicator_init, then these bits of its feature words */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return "x86-64-v4 (AVX-512)" MLP_CLONES;
    if (__builtin_cpu_supports("x86-64-v3")) return "x86-64-v3 (AVX2 + FMA)" MLP_CLONES;
    return "default (baseline x86-64)" MLP_CLONES;
#else
    return "unknown: clones of x86-64-v4, x86-64-v3 and default, and GCC before 12 cannot ask which one runs";
#endif
#elif defined(NNLAB_ONE_ISA) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
    return "x86-64-v4 (AVX-512)" MLP_ONE_ISA;
#elif defined(NNLAB_ONE_ISA) && defined(__AVX2__) && defined(__FMA__)
    return "x86-64-v3 (AVX2 + FMA)" MLP_ONE_ISA;
#elif defined(NNLAB_ONE_ISA) && defined(__x86_64__)
    return "x86-64 (baseline)" MLP_ONE_ISA;
#elif defined(NNLAB_ONE_ISA)
    return "not x86-64" MLP_ONE_ISA;
#else
    return "one build, for the compiler's target (no clones: not GCC on x86-64)";
#endif
}
