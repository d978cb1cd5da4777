/* check_mlp.c — finite-difference gradient checks of the whole network
 * (every activation, with and without L2, 1 to 3 hidden layers, a fixed
 * dropout mask), plus layout and init statistics. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"
#include "optim.h"
#include "rng.h"

#include "check_main.h"

enum { N_IN = 6, N_OUT = 3, MAX_B = MLP_LOOP_ROWS + 1 };

/* Mean cross-entropy over the batch + L2 penalty, in double. */
static double objective(const Mlp *m, const float *p, MlpWork *ws, const float *x, const int32_t *y, int B, float l2)
{
    double sum = 0;
    int correct = 0;
    mlp_forward(m, p, ws, x, y, B, 1, &sum, &correct);
    return sum / B + mlp_l2_penalty(m, p, l2);
}

/* Largest violation of |numeric - analytic| <= 1e-3 + 2e-2·|analytic| over
 * every parameter (> 1 means the check fails), numeric being the central
 * difference; where the two one-sided slopes differ by more than that, a
 * ReLU's kink lies between p - h and p + h, and the analytic gradient must
 * be one of the two slopes. */
static double gradient_check(int activation, int n_hidden, float l2, float dropout, int B)
{
    const int hidden[3] = {5, 4, 4};
    Mlp m;
    ck_assert_int_eq(mlp_setup(&m, N_IN, hidden, n_hidden, N_OUT, activation, dropout, NULL), 0);
    MlpWork *ws = mlp_work_create(&m, MAX_B);
    float *p = malloc(m.n_params * sizeof(float)), *g = malloc(m.n_params * sizeof(float));
    Rng r;
    rng_stream(&r, 1000 + activation * 10 + n_hidden, RNG_INIT);
    mlp_init(&m, p, INIT_XAVIER_UNIFORM, &r);
    for (size_t i = 0; i < m.n_params; i++)
        if (p[i] == 0.0f) p[i] = (float)(0.1 * (rng_uniform(&r) - 0.5)); /* nonzero biases too */
    float x[MAX_B * N_IN];
    int32_t y[MAX_B];
    for (int b = 0; b < MAX_B; b++) y[b] = (int32_t[]){0, 2, 1, 2}[b % 4];
    for (int i = 0; i < MAX_B * N_IN; i++) x[i] = i % 5 == 0 ? 0.0f : (float)(2 * rng_uniform(&r) - 1);
    mlp_dropout_sample(&m, ws, B, &r); /* the mask stays fixed from here on */

    double sum = 0;
    int correct = 0;
    mlp_forward(&m, p, ws, x, y, B, 1, &sum, &correct);
    mlp_backward(&m, p, g, ws, x, y, B, l2);
    double worst = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        float keep = p[i];
        p[i] = keep + 1e-3f;
        float hi = p[i];
        double f_hi = objective(&m, p, ws, x, y, B, l2);
        p[i] = keep - 1e-3f;
        float lo = p[i];
        double f_lo = objective(&m, p, ws, x, y, B, l2);
        p[i] = keep;
        double numeric = (f_hi - f_lo) / ((double)hi - (double)lo), tol = 1e-3 + 2e-2 * fabs(g[i]);
        double f0 = objective(&m, p, ws, x, y, B, l2);
        double right = (f_hi - f0) / ((double)hi - keep), left = (f0 - f_lo) / ((double)keep - lo);
        double bad = fabs(right - left) > tol ? fmin(fabs(right - g[i]), fabs(left - g[i])) / tol
                                              : fabs(numeric - g[i]) / tol;
        worst = bad > worst ? bad : worst;
    }
    free(p);
    free(g);
    mlp_work_destroy(ws);
    return worst;
}

START_TEST(gradients_match_finite_differences)
{
    /* _i: activation; loops: batch, depth 1..3, L2 off/on. Single rows go
     * through the zero-skipping loops, 4 rows through the tiles, MAX_B rows
     * through sgemm. */
    int act = _i;
    static const int batches[] = {1, 4, MAX_B};
    for (int b = 0; b < 3; b++)
        for (int depth = 1; depth <= 3; depth++)
            for (int with_l2 = 0; with_l2 <= 1; with_l2++) {
                double worst = gradient_check(act, depth, with_l2 ? 0.3f : 0.0f, 0.0f, batches[b]);
                ck_assert_msg(worst <= 1.0, "%s, batch %d, %d hidden, l2 %d: gradient off by %.2f x tolerance",
                              mlp_activation_names[act], batches[b], depth, with_l2, worst);
            }
}
END_TEST

START_TEST(gradients_with_fixed_dropout_mask)
{
    int act = _i;
    for (int B = 4; B <= MAX_B; B += MAX_B - 4)
        for (int depth = 1; depth <= 3; depth++) {
            double worst = gradient_check(act, depth, 0.1f, 0.4f, B);
            ck_assert_msg(worst <= 1.0, "%s, batch %d, %d hidden, dropout: gradient off by %.2f x tolerance",
                          mlp_activation_names[act], B, depth, worst);
        }
}
END_TEST

START_TEST(layout_is_w_then_b_per_layer)
{
    const int hidden[2] = {200, 100};
    Mlp m;
    ck_assert_int_eq(mlp_setup(&m, 64, hidden, 2, 10, ACT_RELU, 0.0f, NULL), 0);
    ck_assert_int_eq(m.n_layers, 3);
    ck_assert_uint_eq(m.w_off[0], 0);
    ck_assert_uint_eq(m.b_off[0], 64 * 200);
    ck_assert_uint_eq(m.w_off[1], 64 * 200 + 200);
    ck_assert_uint_eq(m.w_off[2], 64 * 200 + 200 + 200 * 100 + 100);
    ck_assert_uint_eq(m.n_params, 64 * 200 + 200 + 200 * 100 + 100 + 100 * 10 + 10);
    char err[1024];
    int too_many[MLP_MAX_HIDDEN + 1];
    for (int i = 0; i <= MLP_MAX_HIDDEN; i++) too_many[i] = 4;
    ck_assert_int_ne(mlp_setup(&m, 64, too_many, MLP_MAX_HIDDEN + 1, 10, ACT_RELU, 0.0f, err), 0);
}
END_TEST

START_TEST(init_scales)
{
    /* Sample standard deviation of W against each scheme's formula; b = 0. */
    const int hidden[1] = {400};
    Mlp m;
    mlp_setup(&m, 300, hidden, 1, 10, ACT_RELU, 0.0f, NULL);
    float *p = malloc(m.n_params * sizeof(float));
    const double want[3] = {1 / sqrt(300.0), sqrt(6.0 / 700.0) / sqrt(3.0), sqrt(2.0 / 300.0)};
    for (int init = 0; init < 3; init++) {
        Rng r;
        rng_stream(&r, 5, RNG_INIT);
        mlp_init(&m, p, init, &r);
        size_t n = 300 * 400;
        double s = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) s += p[i], s2 += (double)p[i] * p[i];
        double sd = sqrt(s2 / n - (s / n) * (s / n));
        ck_assert_double_eq_tol(sd, want[init], 0.01 * want[init]);
        ck_assert_double_eq_tol(s / n, 0.0, 0.01 * want[init]);
        for (int j = 0; j < 400; j++) ck_assert(p[m.b_off[0] + j] == 0.0f);
    }
    free(p);
}
END_TEST

START_TEST(dropout_mask_rate_and_scale)
{
    const int hidden[1] = {1000};
    Mlp m;
    mlp_setup(&m, 4, hidden, 1, 2, ACT_RELU, 0.25f, NULL);
    MlpWork *ws = mlp_work_create(&m, 8);
    Rng r;
    rng_stream(&r, 9, RNG_DROPOUT);
    mlp_dropout_sample(&m, ws, 8, &r);
    int kept = 0;
    for (int i = 0; i < 8000; i++) {
        float v = ws->mask[0][i];
        ck_assert(v == 0.0f || v == 1.0f / 0.75f);
        kept += v != 0.0f;
    }
    ck_assert_int_gt(kept, 5800); /* expected 6000, sd 39 */
    ck_assert_int_lt(kept, 6200);
    mlp_work_destroy(ws);
}
END_TEST

START_TEST(dropout_mask_is_uniform_below_keep)
{
    /* The mask, drawn in integers, is the definition's rng_uniform() < keep
     * draw for draw, for rates whose keep·2^53 has few or many bits. */
    static const float rates[] = {0.25f, 0.2f, 0.5f, 0.1f, 0.9f, 0.999f, 0.3333333f};
    const int hidden[1] = {500};
    for (int k = 0; k < 7; k++) {
        Mlp m;
        mlp_setup(&m, 4, hidden, 1, 2, ACT_RELU, rates[k], NULL);
        MlpWork *ws = mlp_work_create(&m, 4);
        Rng r, ref;
        rng_stream(&r, 10 + (uint64_t)k, RNG_DROPOUT);
        ref = r;
        mlp_dropout_sample(&m, ws, 4, &r);
        float keep = 1.0f - rates[k], scale = 1.0f / keep;
        for (int i = 0; i < 2000; i++) {
            float want = rng_uniform(&ref) < keep ? scale : 0.0f;
            ck_assert_msg(memcmp(&want, &ws->mask[0][i], sizeof want) == 0, "rate %g unit %d", rates[k], i);
        }
        ck_assert(memcmp(&r, &ref, sizeof r) == 0);
        mlp_work_destroy(ws);
    }
}
END_TEST

START_TEST(softmax_loss_is_stable)
{
    /* Huge logits: p_y underflows in float but the loss stays finite and exact. */
    Mlp m;
    mlp_setup(&m, 1, NULL, 0, 2, ACT_SIGMOID, 0.0f, NULL);
    MlpWork *ws = mlp_work_create(&m, 1);
    float p[4] = {200.0f, -200.0f, 0.0f, 0.0f}; /* W (1,2), b (2) */
    float x[1] = {1.0f};
    int32_t y[1] = {1};
    double loss = 0;
    int correct = 0;
    mlp_forward(&m, p, ws, x, y, 1, 0, &loss, &correct);
    ck_assert_double_eq_tol(loss, 400.0, 1e-3);
    ck_assert_int_eq(correct, 0);
    /* A tie predicts the first of the tied classes. */
    p[0] = p[1] = 3.0f;
    y[0] = 0, correct = 0;
    mlp_forward(&m, p, ws, x, y, 1, 0, &loss, &correct);
    ck_assert_int_eq(correct, 1);
    y[0] = 1, correct = 0;
    mlp_forward(&m, p, ws, x, y, 1, 0, &loss, &correct);
    ck_assert_int_eq(correct, 0);
    mlp_work_destroy(ws);
}
END_TEST

START_TEST(exp_and_activations_accuracy)
{
    /* exp: relative error below 2.5e-7 over its whole range, exact-ish at 0. */
    double worst = 0;
    for (double x = -87.3; x <= 88.0; x += 0.00731) {
        double rel = fabs((double)mlp_expf((float)x) - exp((double)(float)x)) / exp((double)(float)x);
        worst = rel > worst ? rel : worst;
    }
    ck_assert_msg(worst < 2.5e-7, "exp relative error %.3g", worst);
    ck_assert(mlp_expf(0.0f) == 1.0f);
    ck_assert(isnan(mlp_expf(NAN)));
    ck_assert(mlp_expf(-1000.0f) > 0.0f && mlp_expf(-1000.0f) < 1.2e-38f); /* clamped, never subnormal */
    /* sigmoid and tanh against libm in double: absolute error below 3e-7. */
    enum { N = 20001 };
    float *a = malloc(N * sizeof(float)), *t = malloc(N * sizeof(float));
    for (int i = 0; i < N; i++) a[i] = t[i] = (float)(-20.0 + 40.0 * i / (N - 1));
    mlp_activation(a, N, ACT_SIGMOID);
    mlp_activation(t, N, ACT_TANH);
    double ws = 0, wt = 0;
    for (int i = 0; i < N; i++) {
        double x = (float)(-20.0 + 40.0 * i / (N - 1));
        ws = fmax(ws, fabs(a[i] - 1.0 / (1.0 + exp(-x))));
        wt = fmax(wt, fabs(t[i] - tanh(x)));
        ck_assert(t[i] >= -1.0f && t[i] <= 1.0f && a[i] >= 0.0f && a[i] <= 1.0f);
    }
    ck_assert_msg(ws < 3e-7, "sigmoid error %.3g", ws);
    ck_assert_msg(wt < 3e-7, "tanh error %.3g", wt);
    float edge[4] = {NAN, -200.0f, 1e-30f, -0.3f};
    mlp_activation(edge, 4, ACT_TANH);
    ck_assert(isnan(edge[0]) && edge[1] == -1.0f && edge[2] == 1e-30f && fabsf(edge[3] - tanhf(-0.3f)) < 1e-7f);
    free(a);
    free(t);
}
END_TEST

START_TEST(activation_blocks_are_the_one_value_path)
{
    /* mlp_activation over n values (blocks of 64, a block of whole vectors,
     * single values) gives each value the bits of a call on it alone. */
    enum { N = 203 };
    float src[N], a[N];
    Rng r;
    rng_stream(&r, 5, RNG_INIT);
    for (int i = 0; i < N; i++) src[i] = (float)(rng_uniform(&r) * 60 - 30);
    src[3] = -100.0f, src[70] = 100.0f, src[150] = NAN;
    for (int act = 0; act < 4; act++)
        for (int n = 1; n <= N; n += n < 80 ? 1 : 41) {
            memcpy(a, src, sizeof a);
            mlp_activation(a, (size_t)n, act);
            for (int i = 0; i < n; i++) {
                float one = src[i];
                mlp_activation(&one, 1, act);
                ck_assert_msg(memcmp(&one, &a[i], sizeof one) == 0, "%s n %d value %d", mlp_activation_names[act],
                              n, i);
            }
        }
}
END_TEST

/* Per-example training, fused (mlp_sgd_examples) vs the general step, over
 * N examples of n_in (at most MAX_IN) inputs in the given order, with
 * optimizer kind (momentum 0.5); returns whether the parameters and
 * velocities are the same bits. */
enum { MAX_IN = 130 };
static int sgd_examples_match(int n_in, const int *hidden, int n_hidden, int act, float l2, float dropout,
                              int shuffled, int kind)
{
    enum { N = 20 };
    Mlp m;
    ck_assert_int_le(n_in, MAX_IN);
    ck_assert_int_eq(mlp_setup(&m, n_in, hidden, n_hidden, 4, act, dropout, NULL), 0);
    MlpWork *ws = mlp_work_create(&m, 1);
    float *a = malloc(m.n_params * sizeof(float)), *b = malloc(m.n_params * sizeof(float));
    float *g = malloc(m.n_params * sizeof(float));
    float *va = NULL, *vb = NULL;
    size_t ns = (size_t)optim_n_state(kind);
    if (ns) va = calloc(ns * m.n_params, sizeof(float)), vb = calloc(ns * m.n_params, sizeof(float));
    float x[N * MAX_IN];
    int32_t y[N], order[N];
    Rng r, da, db;
    rng_stream(&r, 77, RNG_INIT);
    mlp_init(&m, a, INIT_HE_NORMAL, &r);
    memcpy(b, a, m.n_params * sizeof(float));
    for (int i = 0; i < N * n_in; i++) x[i] = i % 3 == 0 ? 0.0f : (float)(rng_uniform(&r) * 4 - 1);
    for (int t = 0; t < N; t++) y[t] = t % 4, order[t] = t;
    if (shuffled) rng_shuffle(&r, order, N);
    rng_stream(&da, 78, RNG_DROPOUT);
    db = da;
    Optim o = {.kind = kind, .lr = 0.05f, .momentum = 0.5f, .beta1 = 0.8f, .beta2 = 0.99f, .eps = 1e-3f,
               .alpha = 0.9f, .weight_decay = 0.1f},
          ob = o;
    /* two calls, as two epochs: nothing may stay pending between them */
    if (shuffled) {
        mlp_sgd_examples(&m, a, va, ws, x, y, order, N / 2, &o, l2, &da);
        mlp_sgd_examples(&m, a, va, ws, x, y, order + N / 2, N - N / 2, &o, l2, &da);
    } else {
        mlp_sgd_examples(&m, a, va, ws, x, y, NULL, N / 2, &o, l2, &da);
        mlp_sgd_examples(&m, a, va, ws, x + N / 2 * n_in, y + N / 2, NULL, N - N / 2, &o, l2, &da);
    }
    for (int t = 0; t < N; t++) {
        const float *xt = x + order[t] * n_in;
        mlp_dropout_sample(&m, ws, 1, &db);
        mlp_forward(&m, b, ws, xt, NULL, 1, 1, NULL, NULL);
        mlp_backward(&m, b, g, ws, xt, y + order[t], 1, l2);
        mlp_step(&m, &ob, b, g, vb);
    }
    int same = memcmp(a, b, m.n_params * sizeof(float)) == 0 && memcmp(&da, &db, sizeof da) == 0 &&
               (ns == 0 || memcmp(va, vb, ns * m.n_params * sizeof(float)) == 0) && o.t == N && ob.t == N;
    /* g is free now: the starting point again, to see that training moved */
    rng_stream(&r, 77, RNG_INIT);
    mlp_init(&m, g, INIT_HE_NORMAL, &r);
    int moved = memcmp(a, g, m.n_params * sizeof(float)) != 0;
    free(a);
    free(b);
    free(g);
    free(va);
    free(vb);
    mlp_work_destroy(ws);
    return same && moved;
}

START_TEST(fused_sgd_is_the_general_step)
{
    /* Per-example steps of every optimizer without a gradient buffer, with
     * the first layer's update fused into the next forward pass and later
     * layers transposed, give the bits of mlp_backward + optim_step: every
     * activation, with L2 and dropout, in order and shuffled, for layer
     * widths that use every column block (32, 8, single) and later layers of
     * few and of many (33) outputs; later layers with 8k inputs (40, 56, 64,
     * 24, 8) take the vector path, two outputs at a time, and 24 -> 7 leaves
     * one output for the single path. 130 inputs take the first layer's rows
     * from three blocks of up to 64 pixels (the last of 2), and as 130 is not
     * a multiple of 3, consecutive examples have zeros in different places:
     * rows nonzero in only one of the two examples are stepped too. */
    static const int shapes[][3] = {{7, 5, 0},  {40, 12, 0}, {37, 33, 0}, {0, 0, 0},
                                    {56, 24, 0}, {64, 8, 0},  {24, 7, 0}};
    static const int n_hidden[] = {2, 2, 2, 0, 2, 2, 2};
    static const int n_ins[] = {9, MAX_IN};
    for (int kind = OPT_SGD; kind <= OPT_RMSPROP; kind++)
        for (int s = 0; s < 7; s++)
            for (int act = 0; act < 4; act++)
                for (int variant = 0; variant < 4; variant++)
                    for (int k = 0; k < 2; k++) {
                        float l2 = variant == 1 ? 0.01f : 0.0f, dropout = variant == 2 ? 0.3f : 0.0f;
                        ck_assert_msg(sgd_examples_match(n_ins[k], shapes[s], n_hidden[s], act, l2, dropout,
                                                         variant == 3, kind),
                                      "%s, %d inputs, shape %d %s variant %d differs", optim_names[kind], n_ins[k],
                                      s, mlp_activation_names[act], variant);
                    }
}
END_TEST

/* Whether B rows (2 to MLP_LOOP_ROWS) through C-H-K give, bit for bit, the
 * documented sums: each pre-activation a multiply-add chain over the inputs
 * in order from the bias, each weight gradient one over the rows in order
 * from 0, each bias gradient a sum over the rows from 0. */
static int small_batch_matches(int C, int H, int K, int B, int act)
{
    Mlp m;
    ck_assert_int_eq(mlp_setup(&m, C, &H, 1, K, act, 0.0f, NULL), 0);
    MlpWork *ws = mlp_work_create(&m, B);
    float *p = malloc(m.n_params * sizeof(float)), *g = malloc(m.n_params * sizeof(float));
    float *x = malloc((size_t)B * C * sizeof(float)), *z = malloc((size_t)B * (H > K ? H : K) * sizeof(float));
    int32_t *y = malloc((size_t)B * sizeof(int32_t));
    Rng r;
    rng_stream(&r, (uint64_t)(C * 1000 + H * 10 + B), RNG_INIT);
    mlp_init(&m, p, INIT_XAVIER_UNIFORM, &r);
    for (int j = 0; j < H; j++) p[m.b_off[0] + j] = (float)(0.2 * (rng_uniform(&r) - 0.5));
    for (int j = 0; j < K; j++) p[m.b_off[1] + j] = (float)(0.2 * (rng_uniform(&r) - 0.5));
    for (int i = 0; i < B * C; i++) x[i] = i % 3 == 0 ? 0.0f : (float)(4 * rng_uniform(&r) - 2);
    for (int b = 0; b < B; b++) y[b] = (int32_t)rng_below(&r, (uint64_t)K);
    mlp_forward(&m, p, ws, x, y, B, 1, &(double){0}, &(int){0});
    mlp_backward(&m, p, g, ws, x, y, B, 0.0f);
    const float *w1 = p + m.w_off[0], *b1 = p + m.b_off[0], *w2 = p + m.w_off[1], *b2 = p + m.b_off[1];
    const float *a1 = ws->act[0], *prob = ws->act[1], *d1 = ws->delta[1];
    int same = 1;
    for (int b = 0; b < B; b++) /* hidden layer: act(chain from b1) */
        for (int j = 0; j < H; j++) {
            float s = b1[j];
            for (int i = 0; i < C; i++) s = fmaf(x[b * C + i], w1[i * H + j], s);
            z[b * H + j] = s;
        }
    mlp_activation(z, (size_t)B * H, act);
    same &= !memcmp(z, a1, (size_t)B * H * sizeof(float));
    for (int b = 0; b < B; b++) /* logits: chain from b2 over the hidden outputs */
        for (int j = 0; j < K; j++) {
            float s = b2[j];
            for (int i = 0; i < H; i++) s = fmaf(a1[b * H + i], w2[i * K + j], s);
            same &= !memcmp(&s, &ws->logits[b * K + j], sizeof s);
        }
    for (int b = 0; b < B; b++) /* the output gradient, as mlp_backward forms it */
        for (int j = 0; j < K; j++) z[b * K + j] = (prob[b * K + j] - (j == y[b] ? 1.0f : 0.0f)) * (1.0f / (float)B);
    for (int j = 0; j < K; j++) {
        float sb = 0.0f;
        for (int b = 0; b < B; b++) sb += z[b * K + j];
        same &= !memcmp(&sb, g + m.b_off[1] + j, sizeof sb);
        for (int i = 0; i < H; i++) {
            float s = 0.0f;
            for (int b = 0; b < B; b++) s = fmaf(a1[b * H + i], z[b * K + j], s);
            same &= !memcmp(&s, g + m.w_off[1] + (size_t)i * K + j, sizeof s);
        }
    }
    for (int i = 0; i < C; i++) /* the first layer's, from the hidden gradient mlp_backward left in delta[1] */
        for (int j = 0; j < H; j++) {
            float s = 0.0f;
            for (int b = 0; b < B; b++) s = fmaf(x[b * C + i], d1[b * H + j], s);
            same &= !memcmp(&s, g + m.w_off[0] + (size_t)i * H + j, sizeof s);
        }
    free(p);
    free(g);
    free(x);
    free(z);
    free(y);
    mlp_work_destroy(ws);
    return same;
}

START_TEST(small_batches_are_the_documented_sums)
{
    /* Widths that use every tile (4 rows x 2 vectors, 2 x 4, 1 x 8, single
     * vectors) and every tail of columns, with more than 256 inputs for the
     * tail's chunks; batches that leave 1, 2 and 3 rows after groups of 4. */
    static const int shapes[][3] = {{6, 5, 3}, {13, 20, 10}, {300, 17, 8}, {64, 200, 10}, {9, 64, 71}};
    static const int batches[] = {2, 3, 5, 7, MLP_LOOP_ROWS};
    for (int s = 0; s < 5; s++)
        for (int b = 0; b < 5; b++)
            for (int act = 0; act < 4; act++)
                ck_assert_msg(small_batch_matches(shapes[s][0], shapes[s][1], shapes[s][2], batches[b], act),
                              "%d-%d-%d, batch %d, %s: not the documented sums", shapes[s][0], shapes[s][1],
                              shapes[s][2], batches[b], mlp_activation_names[act]);
}
END_TEST

int main(void)
{
    mlp_blas_single_thread();
    Suite *s = suite_create("mlp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, gradients_match_finite_differences, 0, 4);
    tcase_add_loop_test(tc, gradients_with_fixed_dropout_mask, 0, 4);
    tcase_add_test(tc, layout_is_w_then_b_per_layer);
    tcase_add_test(tc, init_scales);
    tcase_add_test(tc, dropout_mask_rate_and_scale);
    tcase_add_test(tc, dropout_mask_is_uniform_below_keep);
    tcase_add_test(tc, softmax_loss_is_stable);
    tcase_add_test(tc, exp_and_activations_accuracy);
    tcase_add_test(tc, activation_blocks_are_the_one_value_path);
    tcase_add_test(tc, fused_sgd_is_the_general_step);
    tcase_add_test(tc, small_batches_are_the_documented_sums);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
