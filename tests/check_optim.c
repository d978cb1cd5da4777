/* check_optim.c — optimizer steps against values worked out by hand from
 * DESIGN.md's formulas (PyTorch's SGD / momentum / Nesterov), and one
 * complete step with L2 on a network small enough to compute on paper. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "mlp.h"
#include "optim.h"

#include "check_main.h"

#define TOL 1e-6

START_TEST(sgd_step)
{
    Optim o = {.kind = OPT_SGD, .lr = 0.1f, .momentum = 0.9f};
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, 0.25f};
    optim_step(&o, p, g, NULL, NULL, 2, 1);
    /* p - lr·g */
    ck_assert_double_eq_tol(p[0], 0.95, TOL);
    ck_assert_double_eq_tol(p[1], -2.025, TOL);
    ck_assert_int_eq(optim_n_state(o.kind), 0);
}
END_TEST

START_TEST(momentum_two_steps)
{
    Optim o = {.kind = OPT_MOMENTUM, .lr = 0.1f, .momentum = 0.9f};
    float p[1] = {1.0f}, v[1] = {0.0f}, g1[1] = {0.5f}, g2[1] = {-1.0f};
    optim_step(&o, p, g1, v, NULL, 1, 1);
    /* v = 0.9·0 + 0.5 = 0.5; p = 1 - 0.1·0.5 = 0.95 */
    ck_assert_double_eq_tol(v[0], 0.5, TOL);
    ck_assert_double_eq_tol(p[0], 0.95, TOL);
    optim_step(&o, p, g2, v, NULL, 1, 1);
    /* v = 0.9·0.5 - 1 = -0.55; p = 0.95 + 0.055 = 1.005 */
    ck_assert_double_eq_tol(v[0], -0.55, TOL);
    ck_assert_double_eq_tol(p[0], 1.005, TOL);
}
END_TEST

START_TEST(nesterov_two_steps)
{
    Optim o = {.kind = OPT_NESTEROV, .lr = 0.1f, .momentum = 0.9f};
    float p[1] = {1.0f}, v[1] = {0.0f}, g1[1] = {0.5f}, g2[1] = {-1.0f};
    optim_step(&o, p, g1, v, NULL, 1, 1);
    /* v = 0.5; p = 1 - 0.1·(0.5 + 0.9·0.5) = 0.905 */
    ck_assert_double_eq_tol(v[0], 0.5, TOL);
    ck_assert_double_eq_tol(p[0], 0.905, TOL);
    optim_step(&o, p, g2, v, NULL, 1, 1);
    /* v = 0.45 - 1 = -0.55; p = 0.905 - 0.1·(-1 + 0.9·(-0.55)) = 0.905 + 0.1495 = 1.0545 */
    ck_assert_double_eq_tol(v[0], -0.55, TOL);
    ck_assert_double_eq_tol(p[0], 1.0545, TOL);
}
END_TEST

/* A 2-input, 2-class softmax layer (no hidden layer), one example, L2 = 0.5:
 *   W = [[1, -1], [0.5, 2]], b = [0.1, -0.1], x = [1, 2], y = 0
 *   z = x·W + b = [1 + 1 + 0.1, -1 + 4 - 0.1] = [2.1, 2.9]
 *   p = softmax(z); gW[i][j] = x_i (p_j - y_j) + 0.5·W[i][j]; gb = p - y
 * then one step of each optimizer from v = 0 (lr 0.1, μ 0.9). */
START_TEST(full_step_with_l2)
{
    int kind = _i;
    Mlp m;
    ck_assert_int_eq(mlp_setup(&m, 2, NULL, 0, 2, ACT_SIGMOID, 0.0f, NULL), 0);
    MlpWork *ws = mlp_work_create(&m, 1);
    float p[6] = {1.0f, -1.0f, 0.5f, 2.0f, 0.1f, -0.1f}, g[6], v[6] = {0};
    const double p0[6] = {1.0, -1.0, 0.5, 2.0, 0.1, -0.1};
    float x[2] = {1.0f, 2.0f};
    int32_t y[1] = {0};
    double loss = 0;
    int correct = 0;
    mlp_forward(&m, p, ws, x, y, 1, 1, &loss, &correct);
    mlp_backward(&m, p, g, ws, x, y, 1, 0.5f);

    double e0 = exp(2.1), e1 = exp(2.9), p_0 = e0 / (e0 + e1), p_1 = e1 / (e0 + e1);
    ck_assert_double_eq_tol(loss, -log(p_0), 1e-5);
    double want_g[6] = {1 * (p_0 - 1) + 0.5 * 1.0, 1 * p_1 + 0.5 * -1.0, 2 * (p_0 - 1) + 0.5 * 0.5,
                        2 * p_1 + 0.5 * 2.0, p_0 - 1, p_1};
    for (int i = 0; i < 6; i++) ck_assert_double_eq_tol(g[i], want_g[i], 1e-5);

    Optim o = {.kind = kind, .lr = 0.1f, .momentum = 0.9f};
    optim_step(&o, p, g, optim_n_state(o.kind) ? v : NULL, NULL, 6, 1);
    for (int i = 0; i < 6; i++) {
        double step = kind == OPT_NESTEROV ? want_g[i] * (1 + 0.9) : want_g[i];
        ck_assert_double_eq_tol(p[i], p0[i] - 0.1 * step, 1e-5);
    }
    mlp_work_destroy(ws);
}
END_TEST

int main(void)
{
    mlp_blas_single_thread(); /* as the driver does: each run on one thread */
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sgd_step);
    tcase_add_test(tc, momentum_two_steps);
    tcase_add_test(tc, nesterov_two_steps);
    tcase_add_loop_test(tc, full_step_with_l2, OPT_SGD, OPT_NESTEROV + 1);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
