/* optim.h — parameter updates and learning-rate schedules, in PyTorch's
 * forms (DESIGN.md "The math", "Optimizers and schedules"). g is the
 * gradient including L2 (mlp_backward adds λ·W to the weights' gradient,
 * PyTorch's weight_decay restricted to weights); t counts steps from 1;
 * every state starts at 0.
 *   sgd:      p -= lr·g
 *   momentum: v = μ·v + g;  p -= lr·v
 *   nesterov: v = μ·v + g;  p -= lr·(g + μ·v)
 *   adam:     m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
 *             p -= (lr/(1−β1^t))·(m / (√v·(1/√(1−β2^t)) + ε))
 *   adamw:    p ·= 1 − lr·wd on weights (not biases), then adam's step
 *             (g without L2: the configuration refuses l2 with adamw)
 *   rmsprop:  v = α·v + (1−α)·g²;  p -= lr·(g / (√v + ε))
 * Each is evaluated in float32 in exactly this order (no contraction into
 * fma: C11 mode), so the batched path here and the per-example kernels of
 * mlp.c give the same bits. */
#ifndef OPTIM_H
#define OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { OPT_SGD = 0, OPT_MOMENTUM, OPT_NESTEROV, OPT_ADAM, OPT_ADAMW, OPT_RMSPROP } OptimKind;
extern const char *const optim_names[]; /* NULL-terminated, by OptimKind */

typedef enum { LR_CONSTANT = 0, LR_STEP, LR_EXPONENTIAL, LR_COSINE } LrScheduleKind;
extern const char *const lr_schedule_names[]; /* NULL-terminated, by LrScheduleKind */

typedef struct {
    int kind;           /* OptimKind */
    float lr;           /* this epoch's learning rate (optim_schedule_lr) */
    float momentum;     /* μ in [0, 1): momentum, nesterov */
    float beta1, beta2; /* adam, adamw: in [0, 1) */
    float eps;          /* adam, adamw, rmsprop: > 0 */
    float alpha;        /* rmsprop: in [0, 1) */
    float weight_decay; /* adamw: >= 0 */
    int64_t t;          /* steps taken; optim_step counts them */
} Optim;

/* Buffers of state per parameter: 0 (sgd), 1 (momentum and nesterov: the
 * velocity; rmsprop: the square average), 2 (adam, adamw: the first and
 * second moments). A run's state is n_state buffers of n_params floats,
 * one after the other. */
int optim_n_state(int kind);

/* The per-step constants of step t (t >= 1) of o: the step size
 * lr/(1 − β1^t) and 1/√(1 − β2^t) (adam, adamw; 0 otherwise), and adamw's
 * weight factor 1 − lr·wd (1 otherwise), each rounded once to float from
 * double. */
typedef struct {
    float step, rsqrt_bc2, decay;
} OptimStepConst;
OptimStepConst optim_step_const(const Optim *o, int64_t t);

/* One step of n parameters p from gradients g: o->t must already count
 * this step (optim_step_begin). s1, s2 are the state buffers (NULL where
 * the kind has fewer); `weights` says whether p are weights (adamw decays
 * them) or biases (it does not). */
void optim_step_begin(Optim *o);
void optim_step(const Optim *o, float *p, const float *g, float *s1, float *s2, size_t n, int weights);

/* Epoch e's (0-based) learning rate of a run of `epochs` epochs: lr through
 * warmup_epochs w (epoch e < w: lr·(e+1)/w), then the schedule over the
 * remaining epochs (e − w of epochs − w): constant; step lr·γ^⌊e/s⌋;
 * exponential lr·γ^e; cosine min_lr + (lr − min_lr)·(1 + cos(π·e/E))/2.
 * In double; it depends on the configured epochs only. */
/* adam, adamw and rmsprop train in flush-to-zero mode (FTZ and DAZ, as
 * torch.set_flush_denormal(True)): a result or input below FLT_MIN
 * (1.2e-38) counts as 0. Their g² is often that small (the last layers'
 * gradients of well-classified examples), and subnormal arithmetic cost
 * them 2x the time. Other values are untouched, and the mode is the
 * thread's own, so bits stay independent of threads and ranks. Returns the
 * thread's previous mode for optim_flush_end; does nothing for the other
 * optimizers or off x86. */
unsigned optim_flush_begin(int kind);
void optim_flush_end(unsigned saved);

double optim_schedule_lr(int kind, double lr, int e, int epochs, int warmup_epochs, int step_size, double gamma,
                         double min_lr);

#endif
