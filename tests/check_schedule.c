/* check_schedule.c — the plan of runs without any executor (as ninja's
 * PlanTest): runs come out in order, once each; a stop hands out no more;
 * runs in flight are counted until they finish. */
#include <check.h>

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

int main(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, hands_out_each_run_once_in_order);
    tcase_add_test(tc, a_stop_hands_out_nothing_more);
    tcase_add_test(tc, an_empty_plan);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
