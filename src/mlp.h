/* mlp.h — the multilayer perceptron: parameter layout, initialisation,
 * forward/backward, activations, softmax + cross-entropy, dropout.
 *
 * Parameters live in one float buffer (and gradients in another of the same
 * layout): layer l's W (size[l], size[l+1]) row-major at w_off[l], then its
 * b (size[l+1]) at b_off[l]. That is also the layout of the results file, so
 * writing weights is a slice per layer and the optimizer is one flat loop.
 *
 * Not here: the optimizer (optim), the training loop (train), any I/O. */
#ifndef MLP_H
#define MLP_H

#include <stddef.h>
#include <stdint.h>

#include "optim.h"
#include "rng.h"

#define MLP_MAX_HIDDEN 16

/* Training batches of 2 to MLP_LOOP_ROWS rows go through the network in
 * loops over tiles of a few rows, more (and evaluation) through OpenBLAS
 * sgemm, whose packing and setup cost more than the arithmetic at so few
 * rows. Each output of a layer is then a multiply-add chain over its inputs
 * in order, from the bias, and each weight's gradient one over the rows in
 * order, from 0. */
#define MLP_LOOP_ROWS 16

typedef enum { ACT_SIGMOID = 0, ACT_TANH, ACT_RELU, ACT_LEAKY_RELU } MlpActivation;
typedef enum { INIT_LECUN_NORMAL = 0, INIT_XAVIER_UNIFORM, INIT_HE_NORMAL } MlpInit;

extern const char *const mlp_activation_names[]; /* NULL-terminated, by MlpActivation */
extern const char *const mlp_init_names[];       /* NULL-terminated, by MlpInit */

typedef struct {
    int n_layers;                        /* dense layers = hidden layers + 1 */
    int size[MLP_MAX_HIDDEN + 2];        /* size[0] inputs ... size[n_layers] classes */
    size_t w_off[MLP_MAX_HIDDEN + 1];    /* offsets of each layer's W in the buffer */
    size_t b_off[MLP_MAX_HIDDEN + 1];    /* ... and of its b */
    size_t n_params;
    int activation;                      /* MlpActivation, every hidden layer */
    float dropout;                       /* drop probability of hidden units, [0, 1) */
} Mlp;

/* Per-batch buffers, allocated once for batches of up to max_batch rows. */
typedef struct {
    int max_batch;
    float *act[MLP_MAX_HIDDEN + 1];  /* (B, size[l+1]) activations; last = softmax probabilities */
    float *mask[MLP_MAX_HIDDEN];     /* (B, size[l+1]) 0 or 1/(1-p); NULL without dropout */
    float *drop[MLP_MAX_HIDDEN];     /* (B, size[l+1]) act * mask; NULL without dropout */
    float *logits;                   /* (B, classes) */
    float *delta[2];                 /* (B, widest layer) gradients w.r.t. pre-activations */
    float *wt[MLP_MAX_HIDDEN + 1];   /* (size[l+1], size[l]) W transposed, dot layers (l > 0) only, else NULL */
    float *vt[MLP_MAX_HIDDEN + 1];   /* (2, size[l+1], size[l]) its optimizer state transposed, up to two buffers */
    float *pend_a[MLP_MAX_HIDDEN + 1]; /* (size[l]) input and (size[l+1]) output gradient of a dot */
    float *pend_d[MLP_MAX_HIDDEN + 1]; /* layer's update not yet applied, else NULL */
    float *block;                    /* the one allocation behind all of the above */
    int *rows;                       /* (size[0]) scratch: row indices of the first layer */
} MlpWork;

/* Fill the layout. Fails (message in err) on a bad size or too many layers. */
int mlp_setup(Mlp *m, int n_in, const int *hidden, int n_hidden, int n_out, int activation,
              float dropout, char *err);

/* Whether dense layer l is a dot layer: every layer after the first. One
 * example's forward pass through it sums each output's inputs as a dot
 * product (32 interleaved partial sums, see mlp.c), and per-example training
 * keeps its W transposed while it runs. */
int mlp_dot_layer(const Mlp *m, int l);

/* NULL when out of memory. Free with mlp_work_destroy (NULL is fine). */
MlpWork *mlp_work_create(const Mlp *m, int max_batch);
void mlp_work_destroy(MlpWork *ws);
/* Bytes mlp_work_create allocates for batches of up to max_batch rows. */
size_t mlp_work_bytes(const Mlp *m, int max_batch);

/* W from the init scheme, drawn layer by layer in row-major order; b = 0. */
void mlp_init(const Mlp *m, float *params, int init, Rng *rng);

/* Draw dropout masks for B rows (keep with probability 1 - p, scale 1/(1-p)). */
void mlp_dropout_sample(const Mlp *m, MlpWork *ws, int B, Rng *rng);

/* Forward pass of x (B, size[0]). train != 0 applies the masks already in ws
 * (see mlp_dropout_sample); train == 0 is evaluation mode. Leaves the
 * probabilities in ws->act[n_layers-1]. When y is not NULL, adds the sum over
 * rows of cross-entropy to *loss_sum and the number of correct argmax
 * predictions to *n_correct. */
void mlp_forward(const Mlp *m, const float *params, MlpWork *ws, const float *x, const int32_t *y,
                 int B, int train, double *loss_sum, int *n_correct);

/* Gradient of mean cross-entropy over the batch (+ (l2/2)·Σ‖W‖²) after a
 * training-mode mlp_forward of the same x. Writes every entry of grads. */
void mlp_backward(const Mlp *m, const float *params, float *grads, MlpWork *ws, const float *x,
                  const int32_t *y, int B, float l2);

/* One optimizer step (optim_step_begin, then optim_step) of every layer
 * from grads: W (which adamw decays), then b. state is the optimizer's
 * (optim_n_state × n_params floats; NULL for sgd). */
void mlp_step(const Mlp *m, Optim *o, float *params, const float *grads, float *state);

/* Per-example training over n examples: x[order[t]] (row t when order is
 * NULL) for t = 0 .. n-1, each one being mlp_dropout_sample (from rng) +
 * training-mode mlp_forward + mlp_backward (B = 1) + optim_step with o (SGD,
 * any kind; state the optimizer's, as mlp_step's),
 * with the same bits for finite values, but faster: no gradient buffer,
 * zero inputs cost nothing under SGD without L2, and the update of the first
 * layer and of dot layers is fused with the next example's forward pass
 * through them (one trip through W instead of two). Needs ws->max_batch >= 1. */
void mlp_sgd_examples(const Mlp *m, float *params, float *state, MlpWork *ws, const float *x, const int32_t *y,
                      const int32_t *order, int n, Optim *o, float l2, Rng *rng);

/* exp(x) with relative error below 2.5e-7 on [-87.3, 88] (inputs outside
 * are clamped there), vectorizable; used by sigmoid, tanh and softmax. */
float mlp_expf(float x);
/* a (n) = act(a), in place, as the hidden layers compute it. */
void mlp_activation(float *a, size_t n, int act);

/* Make OpenBLAS single-threaded: each run is computed by one thread. Call
 * once, outside any parallel region, before training (the driver does). It
 * sets OpenMP's default thread count to 1 as well: read that first. */
void mlp_blas_single_thread(void);

/* (l2/2)·Σ‖W‖² over the weights (not biases), in double. */
double mlp_l2_penalty(const Mlp *m, const float *params, float l2);

/* Which build of the hot kernels (NN_HOT, nnlab.h) runs in this process, as
 * a static string that starts with its name: "x86-64-v4", "x86-64-v3" or
 * "default", the target_clones clone libgcc's resolver picks on this CPU
 * (asked as the resolver asks: __builtin_cpu_supports of the level); or, in
 * a build with one kernel each (NNLAB_ONE_ISA), "x86-64-v4", "x86-64-v3" or
 * "x86-64", the instruction set it was compiled for. Then what that means. */
const char *mlp_kernel_name(void);

#endif
