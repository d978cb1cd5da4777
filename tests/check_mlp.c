/* check_mlp.c — finite-difference gradient checks of the whole network
 * (every activation, with and without L2, 1 to 3 hidden layers, a fixed
 * dropout mask), plus layout and init statistics. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"
#include "rng.h"

enum { N_IN = 6, N_OUT = 3, B = 4 };

/* Mean cross-entropy over the batch + L2 penalty, in double. */
static double objective(const Mlp *m, const float *p, MlpWork *ws, const float *x, const int32_t *y, float l2)
{
    double sum = 0;
    int correct = 0;
    mlp_forward(m, p, ws, x, y, B, 1, &sum, &correct);
    return sum / B + mlp_l2_penalty(m, p, l2);
}

/* Largest violation of |numeric - analytic| <= 1e-3 + 2e-2·|analytic| over
 * every parameter (> 1 means the check fails). */
static double gradient_check(int activation, int n_hidden, float l2, float dropout)
{
    const int hidden[3] = {5, 4, 4};
    Mlp m;
    ck_assert_int_eq(mlp_setup(&m, N_IN, hidden, n_hidden, N_OUT, activation, dropout, NULL), 0);
    MlpWork *ws = mlp_work_create(&m, B);
    float *p = malloc(m.n_params * sizeof(float)), *g = malloc(m.n_params * sizeof(float));
    Rng r;
    rng_stream(&r, 1000 + activation * 10 + n_hidden, RNG_INIT);
    mlp_init(&m, p, INIT_XAVIER_UNIFORM, &r);
    for (size_t i = 0; i < m.n_params; i++)
        if (p[i] == 0.0f) p[i] = (float)(0.1 * (rng_uniform(&r) - 0.5)); /* nonzero biases too */
    float x[B * N_IN];
    int32_t y[B] = {0, 2, 1, 2};
    for (int i = 0; i < B * N_IN; i++) x[i] = i % 5 == 0 ? 0.0f : (float)(2 * rng_uniform(&r) - 1);
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
        double f_hi = objective(&m, p, ws, x, y, l2);
        p[i] = keep - 1e-3f;
        float lo = p[i];
        double f_lo = objective(&m, p, ws, x, y, l2);
        p[i] = keep;
        double numeric = (f_hi - f_lo) / ((double)hi - (double)lo);
        double bad = fabs(numeric - g[i]) / (1e-3 + 2e-2 * fabs(g[i]));
        worst = bad > worst ? bad : worst;
    }
    free(p);
    free(g);
    mlp_work_destroy(ws);
    return worst;
}

START_TEST(gradients_match_finite_differences)
{
    /* _i: activation; loops: depth 1..3, L2 off/on. */
    int act = _i;
    for (int depth = 1; depth <= 3; depth++)
        for (int with_l2 = 0; with_l2 <= 1; with_l2++) {
            double worst = gradient_check(act, depth, with_l2 ? 0.3f : 0.0f, 0.0f);
            ck_assert_msg(worst <= 1.0, "%s, %d hidden, l2 %d: gradient off by %.2f x tolerance",
                          mlp_activation_names[act], depth, with_l2, worst);
        }
}
END_TEST

START_TEST(gradients_with_fixed_dropout_mask)
{
    int act = _i;
    for (int depth = 1; depth <= 3; depth++) {
        double worst = gradient_check(act, depth, 0.1f, 0.4f);
        ck_assert_msg(worst <= 1.0, "%s, %d hidden, dropout: gradient off by %.2f x tolerance",
                      mlp_activation_names[act], depth, worst);
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
    mlp_work_destroy(ws);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("mlp");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, gradients_match_finite_differences, 0, 4);
    tcase_add_loop_test(tc, gradients_with_fixed_dropout_mask, 0, 4);
    tcase_add_test(tc, layout_is_w_then_b_per_layer);
    tcase_add_test(tc, init_scales);
    tcase_add_test(tc, dropout_mask_rate_and_scale);
    tcase_add_test(tc, softmax_loss_is_stable);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
