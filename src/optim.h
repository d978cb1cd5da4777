/* optim.h — parameter updates, in PyTorch's form (DESIGN.md "The math"):
 *   sgd:      p -= lr·g
 *   momentum: v = μ·v + g;  p -= lr·v
 *   nesterov: v = μ·v + g;  p -= lr·(g + μ·v)
 * v starts at 0. L2 is not applied here: mlp_backward already added λ·W to
 * the weights' gradient, which is PyTorch's weight_decay restricted to weights. */
#ifndef OPTIM_H
#define OPTIM_H

#include <stddef.h>

typedef enum { OPT_SGD = 0, OPT_MOMENTUM, OPT_NESTEROV } OptimKind;

extern const char *const optim_names[]; /* NULL-terminated, by OptimKind */

typedef struct {
    int kind;       /* OptimKind */
    float lr;       /* learning rate > 0 */
    float momentum; /* μ in [0, 1), unused by sgd */
} Optim;

/* Whether the optimizer keeps a velocity buffer (same layout as the parameters). */
int optim_needs_velocity(const Optim *o);

/* One update of n parameters p from gradients g; v (n) is the velocity, or
 * NULL for sgd. */
void optim_step(const Optim *o, float *p, const float *g, float *v, size_t n);

#endif
