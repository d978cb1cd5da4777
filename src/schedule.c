/* schedule.c — the plan of runs (see schedule.h). */
#include "schedule.h"

void schedule_init(Schedule *s, const int *todo, int n_todo)
{
    s->todo = todo;
    s->n_todo = n_todo;
    s->next = 0;
    s->n_finished = 0;
    s->stopped = 0;
}

int schedule_next(Schedule *s)
{
    if (s->stopped || s->next >= s->n_todo) return -1;
    return s->todo[s->next++];
}

void schedule_finished(Schedule *s, int index)
{
    (void)index; /* the runs of a plain grid are independent: nothing waits on one */
    s->n_finished++;
}

void schedule_stop(Schedule *s)
{
    s->stopped = 1;
}

int schedule_in_flight(const Schedule *s)
{
    return s->next - s->n_finished;
}
