/* check_schedule.c — the plan of runs without any executor (as ninja's
 * PlanTest): runs come out in order, once each; a stop hands out no more;
 * runs in flight are counted until they finish. */
#include <check.h>

#include <math.h>

#include "schedule.h"

#include "check_main.h"

START_TEST(hands_out_each_run_once_in_order)
{
    const int todo[] = {4, 0, 7};
    Schedule s;
    schedule_init(&s, todo, 3);
    ck_assert_int_eq(schedule_next(&s), 4);
    ck_assert_int_eq(schedule_next(&s), 0);
    ck_assert_int_eq(schedule_in_flight(&s), 2);
    schedule_finished(&s, 0);
    ck_assert_int_eq(schedule_in_flight(&s), 1);
    ck_assert_int_eq(schedule_next(&s), 7);
    ck_assert_int_eq(schedule_next(&s), -1);
    ck_assert_int_eq(schedule_next(&s), -1);
    schedule_finished(&s, 4);
    schedule_finished(&s, 7);
    ck_assert_int_eq(schedule_in_flight(&s), 0);
}
END_TEST

START_TEST(a_stop_hands_out_nothing_more)
{
    const int todo[] = {0, 1, 2, 3};
    Schedule s;
    schedule_init(&s, todo, 4);
    ck_assert_int_eq(schedule_next(&s), 0);
    schedule_stop(&s);
    ck_assert_int_eq(schedule_next(&s), -1);
    ck_assert_int_eq(schedule_in_flight(&s), 1); /* the run in flight still finishes */
    schedule_finished(&s, 0);
    ck_assert_int_eq(schedule_in_flight(&s), 0);
}
END_TEST

START_TEST(an_empty_plan)
{
    Schedule s;
    schedule_init(&s, NULL, 0);
    ck_assert_int_eq(schedule_next(&s), -1);
    ck_assert_int_eq(schedule_in_flight(&s), 0);
}
END_TEST

START_TEST(halving_brackets)
{
    Bracket b[SCHEDULE_MAX_RUNGS];
    ck_assert_int_eq(schedule_brackets(0, 10, 9, 1, 3, b), 1); /* rungs at 1, 3, 9 epochs of 10, 4, 2 */
    ck_assert_int_eq(b[0].n_rungs, 3);
    ck_assert_int_eq(b[0].epochs[0], 1);
    ck_assert_int_eq(b[0].epochs[1], 3);
    ck_assert_int_eq(b[0].epochs[2], 9);
    ck_assert_int_eq(b[0].keep[0], 10);
    ck_assert_int_eq(b[0].keep[1], 4);
    ck_assert_int_eq(b[0].keep[2], 2);
    ck_assert_int_eq(schedule_brackets(0, 5, 10, 2, 3, b), 1); /* 2, 6, then the last rung at 10 */
    ck_assert_int_eq(b[0].n_rungs, 3);
    ck_assert_int_eq(b[0].epochs[2], 10);
    ck_assert_int_eq(schedule_brackets(0, 5, 4, 4, 3, b), 1); /* min_epochs = epochs: one rung */
    ck_assert_int_eq(b[0].n_rungs, 1);
    /* Li et al.'s table for R = 81, eta = 3: n = 81, 34, 15, 8, 5 */
    ck_assert_int_eq(schedule_brackets(1, 0, 81, 1, 3, b), 5);
    const int n[] = {81, 34, 15, 8, 5}, r0[] = {1, 3, 9, 27, 81}, last_keep[] = {1, 1, 1, 2, 5};
    for (int i = 0, first = 0; i < 5; first += b[i].n, i++) {
        ck_assert_int_eq(b[i].n, n[i]);
        ck_assert_int_eq(b[i].first, first);
        ck_assert_int_eq(b[i].epochs[0], r0[i]);
        ck_assert_int_eq(b[i].epochs[b[i].n_rungs - 1], 81);
        ck_assert_int_eq(b[i].keep[b[i].n_rungs - 1], last_keep[i]);
    }
    ck_assert_int_eq(schedule_hyperband_trials(81, 1, 3), 81 + 34 + 15 + 8 + 5);
    ck_assert_int_eq(schedule_hyperband_trials(9, 1, 3), 9 + 5 + 3);
}
END_TEST

/* Hand out every ready work item, finishing each with value[config] (NaN: diverged). */
static int drain(Schedule *s, const double *value, int *pruned, int *trained_to_last)
{
    Work w;
    int n = 0;
    while (schedule_next_work(s, &w)) {
        n++;
        if (w.kind == WORK_PRUNE) pruned[w.index]++;
        if (w.kind == WORK_TRAIN && w.last) trained_to_last[w.index]++;
        schedule_finished_value(s, w.index, w.kind == WORK_TRAIN ? value[w.index / 2] : NAN);
    }
    return n;
}

START_TEST(halving_keeps_the_best_in_order)
{
    Bracket b[1];
    schedule_brackets(0, 6, 9, 1, 3, b); /* 6 configs x 2 runs: rungs 1, 3, 9 keep 6, 2, 1 */
    Schedule s;
    ck_assert_int_eq(schedule_init_rungs(&s, b, 1, 2, NULL), 0);
    const double value[] = {0.5, NAN, 0.2, 0.5, 0.9, 0.1};
    int pruned[12] = {0}, last[12] = {0};
    Work w;
    /* rung 0: all twelve runs, nothing more until they are all back */
    for (int i = 0; i < 12; i++) {
        ck_assert(schedule_next_work(&s, &w));
        ck_assert_int_eq(w.index, i);
        ck_assert_int_eq(w.rung, 0);
        ck_assert_int_eq(w.epochs, 1);
    }
    ck_assert(!schedule_next_work(&s, &w));
    for (int i = 11; i >= 0; i--) schedule_finished_value(&s, i, value[i / 2]); /* any order */
    drain(&s, value, pruned, last);
    ck_assert(schedule_done(&s));
    ck_assert_int_eq(schedule_in_flight(&s), 0);
    /* rung 1 keeps configs 5 (0.1) and 2 (0.2); rung 2 keeps 5. 0 and 3 tie at 0.5: both pruned at rung 0 */
    for (int c = 0; c < 6; c++) {
        ck_assert_int_eq(last[2 * c], c == 5);
        ck_assert_int_eq(pruned[2 * c], c != 5);
        ck_assert_int_eq(pruned[2 * c + 1], c != 5);
    }
    schedule_free(&s);
}
END_TEST

START_TEST(halving_resumes_from_what_files_say)
{
    Bracket b[1];
    schedule_brackets(0, 4, 9, 1, 3, b); /* 4 configs x 1 run: rungs keep 4, 2, 1 */
    /* killed after rung 0 was decided (configs 1 and 3 kept, 0 pruned, 2 not yet) and config 1 trained rung 1 */
    RunRungs rr[4] = {{0, 1, {0.3}}, {1, 0, {0.1, 0.2}}, {0, 0, {0.5}}, {0, 0, {0.2}}};
    Schedule s;
    ck_assert_int_eq(schedule_init_rungs(&s, b, 1, 1, rr), 0);
    Work w;
    ck_assert(schedule_next_work(&s, &w));
    ck_assert_int_eq(w.index, 2);
    ck_assert_int_eq(w.kind, WORK_PRUNE);
    ck_assert_int_eq(w.rung, 0);
    ck_assert(schedule_next_work(&s, &w));
    ck_assert_int_eq(w.index, 3);
    ck_assert_int_eq(w.kind, WORK_TRAIN);
    ck_assert_int_eq(w.rung, 1);
    ck_assert(!schedule_next_work(&s, &w));
    schedule_finished_value(&s, 2, NAN);
    schedule_finished_value(&s, 3, 0.1); /* config 3 wins rung 1 over 1 (0.2) */
    ck_assert(schedule_next_work(&s, &w));
    ck_assert_int_eq(w.index, 1);
    ck_assert_int_eq(w.kind, WORK_PRUNE);
    ck_assert_int_eq(w.rung, 1);
    ck_assert(schedule_next_work(&s, &w));
    ck_assert_int_eq(w.index, 3);
    ck_assert_int_eq(w.kind, WORK_TRAIN);
    ck_assert_int_eq(w.rung, 2);
    ck_assert(w.last);
    ck_assert_int_eq(w.epochs, 9);
    schedule_finished_value(&s, 1, NAN);
    schedule_finished_value(&s, 3, 0.0);
    ck_assert(schedule_done(&s));
    schedule_free(&s);
}
END_TEST

int main(void)
{

    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hands_out_each_run_once_in_order);
    tcase_add_test(tc, a_stop_hands_out_nothing_more);
    tcase_add_test(tc, an_empty_plan);
    tcase_add_test(tc, halving_brackets);
    tcase_add_test(tc, halving_keeps_the_best_in_order);
    tcase_add_test(tc, halving_resumes_from_what_files_say);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
