/* optim.c — SGD, heavy-ball momentum and Nesterov momentum, flat loops over
 * the whole parameter buffer. */
#include "optim.h"

#include "nnlab.h"

const char *const optim_names[] = {"sgd", "momentum", "nesterov", NULL};

int optim_needs_velocity(const Optim *o)
{
    return o->kind != OPT_SGD;
}

NN_HOT void optim_step(const Optim *o, float *restrict p, const float *restrict g, float *restrict v, size_t n)
{
    float lr = o->lr, mu = o->momentum;
    switch (o->kind) {
    case OPT_SGD:
        for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
        break;
    case OPT_MOMENTUM:
        for (size_t i = 0; i < n; i++) {
            v[i] = mu * v[i] + g[i];
            p[i] -= lr * v[i];
        }
        break;
    case OPT_NESTEROV:
        for (size_t i = 0; i < n; i++) {
            v[i] = mu * v[i] + g[i];
            p[i] -= lr * (g[i] + mu * v[i]);
        }
        break;
    }
}
