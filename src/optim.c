/* optim.c — the optimizers' steps as flat loops over a range of parameters,
 * and the learning-rate schedules. */
#include "optim.h"

#include <math.h>
#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define HAVE_MXCSR 1
#endif

#include "nnlab.h"

#define PI 3.14159265358979323846

const char *const optim_names[] = {"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", NULL};
const char *const lr_schedule_names[] = {"constant", "step", "exponential", "cosine", NULL};

int optim_n_state(int kind)
{
    switch (kind) {
    case OPT_SGD: return 0;
    case OPT_ADAM:
    case OPT_ADAMW: return 2;
    default: return 1;
    }
}

OptimStepConst optim_step_const(const Optim *o, int64_t t)
{
    OptimStepConst k = {0.0f, 0.0f, 1.0f};
    if (o->kind == OPT_ADAM || o->kind == OPT_ADAMW) {
        double bc1 = 1.0 - pow((double)o->beta1, (double)t), bc2 = 1.0 - pow((double)o->beta2, (double)t);
        k.step = (float)((double)o->lr / bc1);
        k.rsqrt_bc2 = (float)(1.0 / sqrt(bc2));
    }
    if (o->kind == OPT_ADAMW) k.decay = (float)(1.0 - (double)o->lr * (double)o->weight_decay);
    return k;
}

void optim_step_begin(Optim *o)
{
    o->t++;
}

NN_HOT void optim_step(const Optim *o, float *restrict p, const float *restrict g, float *restrict s1,
                       float *restrict s2, size_t n, int weights)
{
    float lr = o->lr, mu = o->momentum;
    switch (o->kind) {
    case OPT_SGD:
        for (size_t i = 0; i < n; i++) p[i] -= lr * g[i];
        break;
    case OPT_MOMENTUM:
        for (size_t i = 0; i < n; i++) {
            s1[i] = mu * s1[i] + g[i];
            p[i] -= lr * s1[i];
        }
        break;
    case OPT_NESTEROV:
        for (size_t i = 0; i < n; i++) {
            s1[i] = mu * s1[i] + g[i];
            p[i] -= lr * (g[i] + mu * s1[i]);
        }
        break;
    case OPT_ADAM:
    case OPT_ADAMW: {
        OptimStepConst k = optim_step_const(o, o->t);
        float b1 = o->beta1, c1 = 1.0f - o->beta1, b2 = o->beta2, c2 = 1.0f - o->beta2, eps = o->eps;
        if (o->kind == OPT_ADAMW && weights)
            for (size_t i = 0; i < n; i++) p[i] *= k.decay;
        for (size_t i = 0; i < n; i++) {
            s1[i] = b1 * s1[i] + c1 * g[i];
            s2[i] = b2 * s2[i] + c2 * (g[i] * g[i]);
            p[i] -= k.step * (s1[i] / (sqrtf(s2[i]) * k.rsqrt_bc2 + eps));
        }
        break;
    }
    case OPT_RMSPROP: {
        float a = o->alpha, c = 1.0f - o->alpha, eps = o->eps;
        for (size_t i = 0; i < n; i++) {
            s1[i] = a * s1[i] + c * (g[i] * g[i]);
            p[i] -= lr * (g[i] / (sqrtf(s1[i]) + eps));
        }
        break;
    }
    }
}

unsigned optim_flush_begin(int kind)
{
#ifdef HAVE_MXCSR
    unsigned saved = _mm_getcsr();
    if (kind == OPT_ADAM || kind == OPT_ADAMW || kind == OPT_RMSPROP) _mm_setcsr(saved | 0x8040); /* FTZ | DAZ */
    return saved;
#else
    (void)kind;
    return 0;
#endif
}

void optim_flush_end(unsigned saved)
{
#ifdef HAVE_MXCSR
    _mm_setcsr(saved);
#else
    (void)saved;
#endif
}

double optim_schedule_lr(int kind, double lr, int e, int epochs, int warmup_epochs, int step_size, double gamma,
                         double min_lr)
{
    if (e < warmup_epochs) return lr * (double)(e + 1) / (double)warmup_epochs;
    e -= warmup_epochs;
    int E = epochs - warmup_epochs;
    switch (kind) {
    case LR_STEP: return lr * pow(gamma, (double)(e / step_size));
    case LR_EXPONENTIAL: return lr * pow(gamma, (double)e);
    case LR_COSINE: return E > 0 ? min_lr + (lr - min_lr) * (1.0 + cos(PI * (double)e / (double)E)) / 2.0 : lr;
    default: return lr;
    }
}
