#include "compiled/ActivationUnit.h"

#include "compiled/Gemm.h"
#include "models/Dice.h"
#include "util/Runtime.h"
#include "util/SerialIntraOp.h"
#include "util/VectorClones.h"

#include <torch/autograd.h>

#include <algorithm>
#include <cstring>

namespace reclab {

namespace {

// The loops below run over row-major blocks and are vectorised across a row's channels; on
// x86-64 GCC also builds AVX-512 and AVX2/FMA copies, picked at load time (util/VectorClones.h).

constexpr int64_t blockRows = 256; // a block's widest values (256 × 80 floats) stay in L2

// e^x in operations GCC vectorises (libm's expf is a call per element): x = n ln 2 + r with
// |r| ≤ ln 2 / 2, e^r by its degree-7 Taylor polynomial with the classic single-precision
// minimax coefficients, 2^n by building the exponent bits. Relative error below 2e-7; x is
// clamped to [-87, 88], where 2^n stays a normal float.
inline float expApprox(float x)
{
    x = x < -87.f ? -87.f : (x > 88.f ? 88.f : x);
    const float n = (x * 1.44269504f + 12582912.f) - 12582912.f; // round to nearest: 1.5 · 2^23
    const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln 2 split in two for accuracy
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.f;
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

// z = keyPart[index] + perRow[rowOf], n rows.
RECLAB_SIMD_CLONES void unitInput(int64_t n, const int64_t* __restrict index, const int64_t* __restrict rowOf,
                                  const float* __restrict keyPart, const float* __restrict perRow, int64_t u,
                                  float* __restrict z)
{
    for (int64_t r = 0; r < n; ++r) {
        const float *kp = keyPart + index[r] * u, *pr = perRow + rowOf[r] * u;
        for (int64_t j = 0; j < u; ++j)
            z[r * u + j] = kp[j] + pr[j];
    }
}

// ht = table[index] ⊙ query[rowOf], n rows.
RECLAB_SIMD_CLONES void behaviourTimesQuery(int64_t n, const int64_t* __restrict index, const int64_t* __restrict rowOf,
                                            const float* __restrict table, const float* __restrict query, int64_t w,
                                            float* __restrict ht)
{
    for (int64_t r = 0; r < n; ++r) {
        const float *h = table + index[r] * w, *t = query + rowOf[r] * w;
        for (int64_t j = 0; j < w; ++j)
            ht[r * w + j] = h[j] * t[j];
    }
}

// Column sums of (x - shift) and of its squares over n rows, added to s and q (float within
// the block, double across blocks).
RECLAB_SIMD_CLONES void addMoments(const float* __restrict x, int64_t n, int64_t c, const float* __restrict shift,
                                   float* __restrict fs, float* __restrict fq, double* __restrict s,
                                   double* __restrict q)
{
    for (int64_t j = 0; j < c; ++j)
        fs[j] = fq[j] = 0.f;
    for (int64_t r = 0; r < n; ++r)
        for (int64_t j = 0; j < c; ++j) {
            const float d = x[r * c + j] - shift[j];
            fs[j] += d;
            fq[j] += d * d;
        }
    for (int64_t j = 0; j < c; ++j) {
        s[j] += fs[j];
        q[j] += fq[j];
    }
}

// Dice forward (p = sigmoid((x - mean) invStd), a = x (alpha + (1 - alpha) p)) with p kept, or
// PReLU (p null).
RECLAB_SIMD_CLONES void activate(const float* __restrict x, int64_t n, int64_t c, const float* __restrict alpha,
                                 const float* __restrict mean, const float* __restrict invStd, float* __restrict p,
                                 float* __restrict a)
{
    if (p) {
        for (int64_t k = 0; k < n * c; k += c)
            for (int64_t j = 0; j < c; ++j) {
                const float s = 1.f / (1.f + expApprox((mean[j] - x[k + j]) * invStd[j]));
                p[k + j] = s;
                a[k + j] = x[k + j] * (alpha[j] + (1.f - alpha[j]) * s);
            }
        return;
    }
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            a[k + j] = x[k + j] > 0.f ? x[k + j] : alpha[j] * x[k + j];
}

// PReLU's backward from g = d/da: dx and dalpha (Dice's is models/Dice.h's diceGradient).
RECLAB_SIMD_CLONES void preluGradient(const float* __restrict x, const float* __restrict g, int64_t n, int64_t c,
                                      const float* __restrict alpha, float* __restrict dx, float* __restrict dalpha)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j) {
            const bool on = x[k + j] > 0.f;
            dx[k + j] = on ? g[k + j] : alpha[j] * g[k + j];
            dalpha[j] += on ? 0.f : g[k + j] * x[k + j];
        }
}

// Dice's batch-statistics term: dx -= k1 + (x - mean) k2.
RECLAB_SIMD_CLONES void statisticsGradient(const float* __restrict x, int64_t n, int64_t c,
                                           const float* __restrict mean, const float* __restrict k1,
                                           const float* __restrict k2, float* __restrict dx)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            dx[k + j] -= k1[j] + (x[k + j] - mean[j]) * k2[j];
}

// w = a v + b per row, and pooled[rowOf] += w h.
RECLAB_SIMD_CLONES void unitOutput(int64_t n, const float* __restrict a, int64_t c, const float* __restrict v, float b,
                                   const int64_t* __restrict index, const int64_t* __restrict rowOf,
                                   const float* __restrict table, int64_t w, float* __restrict weights,
                                   float* __restrict pooled)
{
    for (int64_t r = 0; r < n; ++r) {
        float s = b;
        for (int64_t j = 0; j < c; ++j)
            s += a[r * c + j] * v[j];
        weights[r] = s;
        const float* h = table + index[r] * w;
        float* o = pooled + rowOf[r] * w;
        for (int64_t j = 0; j < w; ++j)
            o[j] += s * h[j];
    }
}

// Backward of unitOutput from G = d/dpooled: dTable[index] += w G, dv += dw a, db += dw and
// da = dw v, where dw = G · h.
RECLAB_SIMD_CLONES void unitOutputBackward(int64_t n, const float* __restrict a, int64_t c, const float* __restrict v,
                                           const int64_t* __restrict index, const int64_t* __restrict rowOf,
                                           const float* __restrict table, int64_t w, const float* __restrict weights,
                                           const float* __restrict G, float* __restrict dTable, float* __restrict dv,
                                           double* __restrict db, float* __restrict da)
{
    for (int64_t r = 0; r < n; ++r) {
        const float *h = table + index[r] * w, *g = G + rowOf[r] * w;
        float* dt = dTable + index[r] * w;
        float dw = 0.f;
        for (int64_t j = 0; j < w; ++j) {
            dw += g[j] * h[j];
            dt[j] += weights[r] * g[j];
        }
        *db += dw;
        for (int64_t j = 0; j < c; ++j) {
            dv[j] += dw * a[r * c + j];
            da[r * c + j] = dw * v[j];
        }
    }
}

// Backward of unitInput from dz and dht = dz · cross: dKeyPart[index] += dz, dPerRow[rowOf] += dz,
// dTable[index] += dht ⊙ t, dQuery[rowOf] += dht ⊙ h.
RECLAB_SIMD_CLONES void unitInputBackward(int64_t n, const int64_t* __restrict index, const int64_t* __restrict rowOf,
                                          const float* __restrict dz, int64_t u, const float* __restrict dht,
                                          const float* __restrict table, const float* __restrict query, int64_t w,
                                          float* __restrict dKeyPart, float* __restrict dPerRow,
                                          float* __restrict dTable, float* __restrict dQuery)
{
    for (int64_t r = 0; r < n; ++r) {
        const float *d = dz + r * u, *e = dht + r * w;
        const float *h = table + index[r] * w, *t = query + rowOf[r] * w;
        float *kp = dKeyPart + index[r] * u, *pr = dPerRow + rowOf[r] * u;
        float *dt = dTable + index[r] * w, *dq = dQuery + rowOf[r] * w;
        for (int64_t j = 0; j < u; ++j) {
            kp[j] += d[j];
            pr[j] += d[j];
        }
        for (int64_t j = 0; j < w; ++j) {
            dt[j] += e[j] * t[j];
            dq[j] += e[j] * h[j];
        }
    }
}

RECLAB_SIMD_CLONES void addColumns(const float* __restrict x, int64_t n, int64_t c, float* __restrict sum)
{
    for (int64_t k = 0; k < n * c; k += c)
        for (int64_t j = 0; j < c; ++j)
            sum[j] += x[k + j];
}

float* f32(const torch::Tensor& t) { return t.data_ptr<float>(); }

// The pass's inputs (detached, contiguous), what the forward keeps for the backward, and the
// parts the rows are split into.
struct UnitState : torch::CustomClassHolder {
    int64_t B = 0, R = 0, I = 0, W = 0, K = 0, widest = 0;
    std::vector<int64_t> U;
    torch::Tensor keyPart, table, index, rowOf, perRow, query, cross, outWeight;
    float outBias = 0.f;
    std::vector<torch::Tensor> weight, bias, alpha, runningMean, runningVar;
    std::vector<bool> dice;
    std::vector<torch::Tensor> z, p, a, mean, invStd; // per layer: before and after the activation
    torch::Tensor w;
    std::vector<std::pair<int64_t, int64_t>> parts; // row ranges, split between samples
    int threads = 1;

    // f(part, first row, rows) for each block of each part, the parts on up to `threads` threads.
    // On RecLab's threads, each running its LibTorch and oneDNN calls serially.
    template <class F> void eachBlock(F&& f) const
    {
        parallelRanges(static_cast<int64_t>(parts.size()), threads, [&](int64_t from, int64_t to) {
            const SerialIntraOp serial;
            for (int64_t k = from; k < to; ++k)
                for (int64_t r = parts[k].first; r < parts[k].second; r += blockRows)
                    f(k, r, std::min(blockRows, parts[k].second - r));
        });
    }

    void splitRows(int count)
    {
        const int64_t* of = rowOf.data_ptr<int64_t>();
        int64_t start = 0;
        for (int k = 1; k <= count && start < R; ++k) {
            int64_t end = k == count ? R : std::max(start, R * k / count);
            while (end > start && end < R && of[end] == of[end - 1])
                ++end;
            if (end > start)
                parts.emplace_back(start, end);
            start = end;
        }
    }
};

// Mean and 1 / sqrt(var + eps) from the parts' shifted moments; the running statistics move
// towards the batch's (unbiased variance), as Dice does in training.
void finishMoments(UnitState& st, int64_t k, const std::vector<std::vector<double>>& moments)
{
    const int64_t c = st.U[k];
    const float* shift = f32(st.runningMean[k]);
    auto mean = torch::empty({c}), var = torch::empty({c});
    for (int64_t j = 0; j < c; ++j) {
        double s = 0, q = 0;
        for (const auto& m : moments) {
            s += m[j];
            q += m[c + j];
        }
        const double d = s / static_cast<double>(st.R);
        f32(mean)[j] = static_cast<float>(shift[j] + d);
        f32(var)[j] = static_cast<float>(std::max(0.0, q / static_cast<double>(st.R) - d * d));
    }
    const double m = DiceImpl::momentum, n = static_cast<double>(st.R);
    st.runningMean[k].mul_(1 - m).add_(mean, m);
    st.runningVar[k].mul_(1 - m).add_(var * (n / (n - 1)), m);
    st.mean[k] = mean;
    st.invStd[k] = (var + DiceImpl::eps).rsqrt();
}

torch::Tensor forwardPass(UnitState& st)
{
    const int64_t P = static_cast<int64_t>(st.parts.size()), W = st.W, K = st.K;
    std::vector<std::vector<float>> scratch(P, std::vector<float>(blockRows * W + 2 * st.widest));
    auto pooled = torch::zeros({st.B, W});
    const int64_t *index = st.index.data_ptr<int64_t>(), *rowOf = st.rowOf.data_ptr<int64_t>();
    for (int64_t k = 0; k <= K; ++k) {
        // Phase k: layer k - 1's activation and layer k's linear map (k = 0: the factored first
        // layer; k = K: the output and the pooling), then layer k's moments.
        const bool moments = k < K && st.dice[k];
        std::vector<std::vector<double>> sums(P, std::vector<double>(moments ? 2 * st.U[k] : 0, 0.0));
        if (k < K) {
            st.z[k] = torch::empty({st.R, st.U[k]});
            if (st.dice[k])
                st.p[k] = torch::empty({st.R, st.U[k]});
        }
        if (k > 0)
            st.a[k - 1] = torch::empty({st.R, st.U[k - 1]});
        st.eachBlock([&](int64_t part, int64_t r, int64_t n) {
            float* extra = scratch[part].data();
            if (k == 0) {
                float* z = f32(st.z[0]) + r * st.U[0];
                unitInput(n, index + r, rowOf + r, f32(st.keyPart), f32(st.perRow), st.U[0], z);
                behaviourTimesQuery(n, index + r, rowOf + r, f32(st.table), f32(st.query), W, extra);
                gemmOneDnn(false, true, n, st.U[0], W, extra, W, f32(st.cross), W, 1.f, z, st.U[0]);
            } else {
                const int64_t c = st.U[k - 1];
                float* a = f32(st.a[k - 1]) + r * c;
                activate(f32(st.z[k - 1]) + r * c, n, c, f32(st.alpha[k - 1]),
                         st.dice[k - 1] ? f32(st.mean[k - 1]) : nullptr, st.dice[k - 1] ? f32(st.invStd[k - 1]) : nullptr,
                         st.dice[k - 1] ? f32(st.p[k - 1]) + r * c : nullptr, a);
                if (k == K) {
                    unitOutput(n, a, c, f32(st.outWeight), st.outBias, index + r, rowOf + r, f32(st.table), W,
                               f32(st.w) + r, f32(pooled));
                    return;
                }
                float* z = f32(st.z[k]) + r * st.U[k];
                for (int64_t i = 0; i < n; ++i)
                    std::memcpy(z + i * st.U[k], f32(st.bias[k]), sizeof(float) * st.U[k]);
                gemmOneDnn(false, true, n, st.U[k], c, a, c, f32(st.weight[k]), c, 1.f, z, st.U[k]);
            }
            if (moments)
                addMoments(f32(st.z[k]) + r * st.U[k], n, st.U[k], f32(st.runningMean[k]), extra + blockRows * W,
                           extra + blockRows * W + st.widest, sums[part].data(), sums[part].data() + st.U[k]);
        });
        if (moments)
            finishMoments(st, k, sums);
    }
    return pooled;
}

struct PartGradients {
    torch::Tensor table, keyPart, cross, out;
    std::vector<torch::Tensor> weight, bias, alpha, sums; // sums: [2, U] of gn and gn · normalised x
    double outBias = 0;
    std::vector<float> scratch;
};

torch::autograd::tensor_list backwardPass(const UnitState& st, const torch::Tensor& G)
{
    const int64_t P = static_cast<int64_t>(st.parts.size()), W = st.W, K = st.K, U0 = st.U[0];
    std::vector<PartGradients> parts(P);
    for (auto& g : parts) {
        g.table = torch::zeros({st.I, W});
        g.keyPart = torch::zeros({st.I, U0});
        g.cross = torch::zeros({U0, W});
        g.out = torch::zeros({st.U[K - 1]});
        for (int64_t k = 0; k < K; ++k) {
            g.alpha.push_back(torch::zeros({st.U[k]}));
            g.sums.push_back(torch::zeros({2, st.U[k]}));
            g.weight.push_back(k ? torch::zeros({st.U[k], st.U[k - 1]}) : torch::Tensor());
            g.bias.push_back(k ? torch::zeros({st.U[k]}) : torch::Tensor());
        }
        g.scratch.resize(blockRows * std::max(st.widest, W));
    }
    auto perRow = torch::zeros({st.B, U0}), query = torch::zeros({st.B, W});
    std::vector<torch::Tensor> dz(K), k1(K), k2(K);
    for (int64_t k = 0; k < K; ++k)
        dz[k] = torch::empty({st.R, st.U[k]});
    const int64_t *index = st.index.data_ptr<int64_t>(), *rowOf = st.rowOf.data_ptr<int64_t>();
    auto finishSums = [&](int64_t k) { // Dice's batch-statistics term of layer k, from every part
        if (!st.dice[k])
            return;
        auto s = parts[0].sums[k].clone();
        for (int64_t part = 1; part < P; ++part)
            s += parts[part].sums[k];
        const auto r = st.invStd[k] / static_cast<double>(st.R);
        k1[k] = (s[0] * r).contiguous();
        k2[k] = (s[1] * r * st.invStd[k]).contiguous();
    };
    auto backActivation = [&](int64_t part, int64_t k, int64_t r, int64_t n, const float* g) {
        const int64_t c = st.U[k];
        const float* x = f32(st.z[k]) + r * c;
        float *dx = f32(dz[k]) + r * c, *dalpha = f32(parts[part].alpha[k]);
        if (st.dice[k])
            diceGradient(x, f32(st.p[k]) + r * c, g, f32(st.alpha[k]), f32(st.mean[k]), f32(st.invStd[k]), n, c, dx,
                         dalpha, f32(parts[part].sums[k]), f32(parts[part].sums[k]) + c);
        else
            preluGradient(x, g, n, c, f32(st.alpha[k]), dx, dalpha);
    };
    for (int64_t k = K; k >= 0; --k) {
        // Phase k: (k = K) the output and pooling, else layer k's batch-statistics term, its
        // linear map (k = 0: the factored first layer) and layer k - 1's activation.
        st.eachBlock([&](int64_t part, int64_t r, int64_t n) {
            PartGradients& pg = parts[part];
            float* g = pg.scratch.data();
            if (k == K) {
                const int64_t c = st.U[K - 1];
                const float* a = f32(st.a[K - 1]) + r * c;
                unitOutputBackward(n, a, c, f32(st.outWeight), index + r, rowOf + r, f32(st.table), W, f32(st.w) + r,
                                   f32(G), f32(pg.table), f32(pg.out), &pg.outBias, g);
                backActivation(part, K - 1, r, n, g);
                return;
            }
            const int64_t c = st.U[k];
            float* d = f32(dz[k]) + r * c;
            if (st.dice[k])
                statisticsGradient(f32(st.z[k]) + r * c, n, c, f32(st.mean[k]), f32(k1[k]), f32(k2[k]), d);
            if (k == 0) {
                behaviourTimesQuery(n, index + r, rowOf + r, f32(st.table), f32(st.query), W, g);
                gemmOneDnn(true, false, U0, W, n, d, U0, g, W, 1.f, f32(pg.cross), W);
                gemmOneDnn(false, false, n, W, U0, d, U0, f32(st.cross), W, 0.f, g, W);
                unitInputBackward(n, index + r, rowOf + r, d, U0, g, f32(st.table), f32(st.query), W, f32(pg.keyPart),
                                  f32(perRow), f32(pg.table), f32(query));
                return;
            }
            const int64_t before = st.U[k - 1];
            const float* a = f32(st.a[k - 1]) + r * before;
            gemmOneDnn(true, false, c, before, n, d, c, a, before, 1.f, f32(pg.weight[k]), before);
            addColumns(d, n, c, f32(pg.bias[k]));
            gemmOneDnn(false, false, n, before, c, d, c, f32(st.weight[k]), before, 0.f, g, before);
            backActivation(part, k - 1, r, n, g);
        });
        if (k > 0)
            finishSums(k - 1);
    }
    // The parts' partial gradients, added in part order.
    auto total = [&](auto member) {
        auto t = (parts[0].*member).clone();
        for (int64_t part = 1; part < P; ++part)
            t += parts[part].*member;
        return t;
    };
    auto totalAt = [&](auto member, int64_t k) {
        auto t = (parts[0].*member)[k].clone();
        for (int64_t part = 1; part < P; ++part)
            t += (parts[part].*member)[k];
        return t;
    };
    double outBias = 0;
    for (const auto& pg : parts)
        outBias += pg.outBias;
    torch::autograd::tensor_list grads{total(&PartGradients::keyPart), total(&PartGradients::table), perRow, query,
                                       total(&PartGradients::cross)};
    for (int64_t k = 0; k < K; ++k)
        grads.push_back(totalAt(&PartGradients::alpha, k));
    for (int64_t k = 1; k < K; ++k) {
        grads.push_back(totalAt(&PartGradients::weight, k));
        grads.push_back(totalAt(&PartGradients::bias, k));
    }
    grads.push_back(total(&PartGradients::out).view({1, -1}));
    grads.push_back(torch::full({1}, outBias));
    return grads;
}

// vars: keyPart, table, perRow, query, cross, alpha per layer, (weight, bias) per layer past the
// first, outWeight, outBias.
struct UnitFunction : public torch::autograd::Function<UnitFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::TensorList vars,
                                 const c10::intrusive_ptr<UnitState>& st)
    {
        auto take = [](const torch::Tensor& t) { return t.detach().contiguous(); };
        st->keyPart = take(vars[0]);
        st->table = take(vars[1]);
        st->perRow = take(vars[2]);
        st->query = take(vars[3]);
        st->cross = take(vars[4]);
        size_t v = 5;
        for (int64_t k = 0; k < st->K; ++k)
            st->alpha[k] = take(vars[v++]);
        for (int64_t k = 1; k < st->K; ++k) {
            st->weight[k] = take(vars[v++]);
            st->bias[k] = take(vars[v++]);
        }
        st->outWeight = take(vars[v++]);
        st->outBias = vars[v].item<float>();
        st->w = torch::empty({st->R});
        auto pooled = forwardPass(*st);
        ctx->saved_data["state"] = c10::IValue::make_capsule(st);
        return pooled;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads)
    {
        const auto st = c10::static_intrusive_pointer_cast<UnitState>(ctx->saved_data["state"].toCapsule());
        // The state stays until the graph is freed, so a retained graph can run backward again.
        auto out = grads[0].defined() ? backwardPass(*st, grads[0].contiguous())
                                      : torch::autograd::tensor_list(5 + 3 * st->K); // every input's: none
        out.emplace_back(); // the state
        return out;
    }
};

bool floatOnCpu(const torch::Tensor& t) { return t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat; }

} // namespace

bool fusedUnitApplies(const UnitInputs& in)
{
    if (in.layers.empty() || !floatOnCpu(in.keyPart) || !floatOnCpu(in.table) || !floatOnCpu(in.perRow) ||
        !floatOnCpu(in.query) || !floatOnCpu(in.cross) || !floatOnCpu(in.outWeight) || !floatOnCpu(in.outBias) ||
        in.index.dim() != 1 || in.index.size(0) < 2 || in.index.scalar_type() != torch::kLong ||
        in.rowOf.scalar_type() != torch::kLong || in.rowOf.sizes() != in.index.sizes())
        return false;
    const int64_t w = in.table.size(1), u0 = in.keyPart.size(1);
    if (in.query.size(1) != w || in.cross.sizes() != torch::IntArrayRef{u0, w} || in.perRow.size(1) != u0 ||
        in.keyPart.size(0) != in.table.size(0) || in.perRow.size(0) != in.query.size(0))
        return false;
    int64_t width = u0;
    for (size_t k = 0; k < in.layers.size(); ++k) {
        const UnitLayer& l = in.layers[k];
        if (k > 0) {
            if (!floatOnCpu(l.weight) || !floatOnCpu(l.bias) || l.weight.size(1) != width)
                return false;
            width = l.weight.size(0);
        }
        if (!floatOnCpu(l.alpha) || l.alpha.numel() != width)
            return false;
        if (l.activation == UnitActivation::Dice && (!floatOnCpu(l.runningMean) || !floatOnCpu(l.runningVar)))
            return false;
    }
    return in.outWeight.numel() == width && in.outBias.numel() == 1;
}

torch::Tensor fusedActivationUnit(const UnitInputs& in, int threads)
{
    auto st = c10::make_intrusive<UnitState>();
    st->B = in.query.size(0);
    st->R = in.index.size(0);
    st->I = in.table.size(0);
    st->W = in.table.size(1);
    st->K = static_cast<int64_t>(in.layers.size());
    st->index = in.index.contiguous();
    st->rowOf = in.rowOf.contiguous();
    st->threads = std::max(1, threads);
    st->widest = st->W;
    std::vector<torch::Tensor> vars{in.keyPart, in.table, in.perRow, in.query, in.cross};
    for (const UnitLayer& l : in.layers) {
        st->U.push_back(l.alpha.numel());
        st->widest = std::max(st->widest, st->U.back());
        st->dice.push_back(l.activation == UnitActivation::Dice);
        st->runningMean.push_back(st->dice.back() ? l.runningMean : torch::zeros({st->U.back()}));
        st->runningVar.push_back(l.runningVar);
        vars.push_back(l.alpha);
    }
    for (size_t k = 1; k < in.layers.size(); ++k) {
        vars.push_back(in.layers[k].weight);
        vars.push_back(in.layers[k].bias);
    }
    vars.push_back(in.outWeight);
    vars.push_back(in.outBias);
    st->weight.resize(st->K);
    st->bias.resize(st->K);
    st->alpha.resize(st->K);
    st->z.resize(st->K);
    st->p.resize(st->K);
    st->a.resize(st->K);
    st->mean.resize(st->K);
    st->invStd.resize(st->K);
    st->splitRows(st->threads);
    return UnitFunction::apply(torch::TensorList(vars), st);
}

} // namespace reclab
