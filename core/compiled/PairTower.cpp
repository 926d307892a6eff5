#include "compiled/PairTower.h"

#include "compiled/Gemm.h"
#include "util/VectorClones.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace reclab {

namespace {

// Blocks run item range by item range, every user of the slice in turn, so the range's
// first-layer item parts (128 × 512 floats, 256 KB), the block's widest layer and its product
// stay in a 1 MB L2 while a block's rows are consecutive in the result, where the last product
// writes them. (Blocks of all of a user's items read the item parts from L3 again for every
// user: a tenth of the ranking.)
constexpr int64_t blockItems = 512;

// out[i] = act(user + item[i]) for items 0 .. n.
RECLAB_SIMD_CLONES void addPairs(const float* __restrict user, const float* __restrict item, int64_t w, int64_t n,
                                 bool relu, float* __restrict out)
{
    for (int64_t i = 0; i < n; ++i) {
        const float* y = item + i * w;
        float* o = out + i * w;
        if (relu)
            for (int64_t j = 0; j < w; ++j)
                o[j] = std::max(user[j] + y[j], 0.f);
        else
            for (int64_t j = 0; j < w; ++j)
                o[j] = user[j] + y[j];
    }
}

// y[r] = act(x[r] + bias) for rows 0 .. m; y may be x.
RECLAB_SIMD_CLONES void biasRows(const float* x, const float* bias, int64_t m, int64_t n, bool relu, float* y)
{
    for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < n; ++j) {
            const float t = x[r * n + j] + (bias ? bias[j] : 0.f);
            y[r * n + j] = relu ? std::max(t, 0.f) : t;
        }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RECLAB_PAIR_TILES 1
#define RECLAB_AVX512 __attribute__((target("avx512f")))

// A tile of R rows × 16·NV columns of act(h · W + b), h [R, K] in L1 (one row a pair), W
// [K, ldw] read 16·NV columns wide: R × NV vector accumulators stay in registers over k, and
// each step broadcasts one value of every row against the step's NV vectors of W. The last
// R - rows rows of h are padding and not stored.
template <int R, int NV>
RECLAB_AVX512 void pairTile(const float* h, int64_t K, const float* w, int64_t ldw, const float* bias, bool relu,
                            float* out, int64_t ldo, int rows)
{
    __m512 acc[R][NV];
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j)
            acc[r][j] = _mm512_loadu_ps(bias + 16 * j);
    for (int64_t k = 0; k < K; ++k) {
        __m512 b[NV];
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j)
            b[j] = _mm512_loadu_ps(w + k * ldw + 16 * j);
#pragma GCC unroll 12
        for (int r = 0; r < R; ++r) {
            const __m512 a = _mm512_set1_ps(h[r * K + k]);
#pragma GCC unroll 4
            for (int j = 0; j < NV; ++j)
                acc[r][j] = _mm512_fmadd_ps(a, b[j], acc[r][j]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < rows; ++r)
#pragma GCC unroll 4
        for (int j = 0; j < NV; ++j)
            _mm512_storeu_ps(out + r * ldo + 16 * j, relu ? _mm512_mask_max_ps(zero, 0xffff, acc[r][j], zero) : acc[r][j]);
}

template <int R>
RECLAB_AVX512 void pairTiles(const float* h, int64_t K, const float* w, int64_t n, const float* bias, bool relu,
                             float* out, int rows)
{
    for (int64_t c = 0; c < n;) { // column chunks of up to 64
        switch (std::min<int64_t>(4, (n - c) / 16)) {
        case 4: pairTile<R, 4>(h, K, w + c, n, bias + c, relu, out + c, n, rows); c += 64; break;
        case 3: pairTile<R, 3>(h, K, w + c, n, bias + c, relu, out + c, n, rows); c += 48; break;
        case 2: pairTile<R, 2>(h, K, w + c, n, bias + c, relu, out + c, n, rows); c += 32; break;
        default: pairTile<R, 1>(h, K, w + c, n, bias + c, relu, out + c, n, rows); c += 16; break;
        }
    }
}

// The tower's first two layers for one block, as one pass: h = act(user + item[i]) for R rows
// at a time into L1, then act(h · W + b) ([K, n] W, n a multiple of 16) into out [m, n]. Every
// multiply-add of the block's product runs on values in registers or L1, where the product
// through a BLAS packs the block's rows and a pass of its own adds the bias (a third faster
// at NeuMF's 128 → 64: 190 against 140 GFLOP/s on one thread of the Zen 5 machine).
RECLAB_AVX512 void firstTwoLayers(const float* user, const float* item, int64_t m, int64_t K, bool reluFirst,
                                  const float* w, int64_t n, const float* bias, bool relu, float* out, float* h)
{
    const int R = n >= 48 ? 6 : 12; // 24 accumulators at most, of 32 registers
    for (int64_t r0 = 0; r0 < m; r0 += R) {
        const int rows = static_cast<int>(std::min<int64_t>(R, m - r0));
        const __m512 zero = _mm512_setzero_ps();
        for (int r = 0; r < R; ++r) {
            const float* v = item + (r0 + std::min(r, rows - 1)) * K;
            for (int64_t k = 0; k < K; k += 16) {
                const __mmask16 mask = K - k >= 16 ? 0xffff : static_cast<__mmask16>((1u << (K - k)) - 1);
                __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, user + k), _mm512_maskz_loadu_ps(mask, v + k));
                if (reluFirst)
                    x = _mm512_mask_max_ps(zero, 0xffff, x, zero);
                _mm512_mask_storeu_ps(h + r * K + k, mask, x);
            }
        }
        if (R == 6)
            pairTiles<6>(h, K, w, n, bias, relu, out + r0 * n, rows);
        else
            pairTiles<12>(h, K, w, n, bias, relu, out + r0 * n, rows);
    }
}

// On a CPU with AVX-512, unless RECLAB_PAIR_TILES=0 (which tests set to check the other path).
bool tilesWanted()
{
    static const bool avx512 = __builtin_cpu_supports("avx512f");
    const char* off = std::getenv("RECLAB_PAIR_TILES");
    return avx512 && !(off && std::string(off) == "0");
}
#endif

} // namespace

torch::Tensor pairTowerRows(const torch::Tensor& user, const torch::Tensor& item, const torch::Tensor& rows,
                            int64_t users, int64_t items, torch::nn::SequentialImpl& tower)
{
    // The later layers as stages; a ReLU right after the first layer joins the sum of its
    // parts, one after a later linear layer joins its bias pass, dropout is off in evaluation.
    struct Stage {
        size_t index = 0;     // in the Sequential
        torch::Tensor weight; // a linear layer's [in, out], its product's right side as stored
        torch::Tensor bias;
        bool relu = false; // a ReLU after it, or alone
    };
    std::vector<Stage> stages;
    bool reluFirst = false;
    const int64_t w0 = tower.ptr(0)->as<torch::nn::Linear>()->weight.size(0);
    int64_t width = w0, widest = w0;
    for (size_t k = 1; k < tower.size(); ++k) {
        const auto& module = tower.ptr(k);
        const bool relu = module->as<torch::nn::ReLU>() != nullptr;
        if (module->as<torch::nn::Dropout>() && !module->is_training())
            continue;
        if (relu && k == 1 && !rows.defined())
            reluFirst = true;
        else if (relu && !stages.empty() && stages.back().weight.defined() && !stages.back().relu)
            stages.back().relu = true;
        else if (auto* l = module->as<torch::nn::Linear>()) {
            stages.push_back({k, l->weight.t().contiguous(), l->bias, false});
            widest = std::max(widest, width = l->weight.size(0));
        } else
            stages.push_back({k, {}, {}, relu});
    }
    // The first layer's sum and the next linear layer in one pass where the CPU has AVX-512.
    bool tiled = false;
#ifdef RECLAB_PAIR_TILES
    tiled = !rows.defined() && !stages.empty() && stages[0].weight.defined() && stages[0].weight.size(1) % 16 == 0 &&
            tilesWanted();
    const auto zeros = tiled && !stages[0].bias.defined() ? torch::zeros({stages[0].weight.size(1)}) : torch::Tensor();
    std::vector<float> h(tiled ? 12 * w0 : 0);
#endif
    const auto options = torch::TensorOptions().dtype(torch::kFloat);
    auto out = torch::empty({users * items, width}, options);
    float* result = out.data_ptr<float>();
    const int64_t ni = std::clamp<int64_t>(items, 1, blockItems);
    std::vector<float> a(ni * widest), b(ni * widest);
    for (int64_t i0 = 0; i0 < items; i0 += ni)
        for (int64_t u = 0; u < users; ++u) {
            const int64_t m = std::min(ni, items - i0);
            float* const target = result + (u * items + i0) * width; // the block's rows in the result
            int64_t w = w0;
            float* x = a.data();
            size_t k = 0;
            if (rows.defined()) {
                x = rows.data_ptr<float>() + (u * items + i0) * w;
            } else if (tiled) {
#ifdef RECLAB_PAIR_TILES
                const Stage& st = stages[k++];
                w = st.weight.size(1);
                x = k == stages.size() ? target : a.data();
                firstTwoLayers(user.data_ptr<float>() + u * w0, item.data_ptr<float>() + i0 * w0, m, w0, reluFirst,
                               st.weight.data_ptr<float>(), w,
                               (st.bias.defined() ? st.bias : zeros).data_ptr<float>(), st.relu, x, h.data());
#endif
            } else {
                addPairs(user.data_ptr<float>() + u * w, item.data_ptr<float>() + i0 * w, w, m, reluFirst, x);
            }
            for (; k < stages.size(); ++k) {
                const Stage& st = stages[k];
                const bool last = k + 1 == stages.size() && st.weight.defined();
                float* y = last ? target : x == a.data() ? b.data() : a.data();
                if (st.weight.defined()) {
                    const int64_t units = st.weight.size(1);
                    gemmOneDnn(false, false, m, units, w, x, w, st.weight.data_ptr<float>(), units, 0.f, y, units);
                    if (st.bias.defined() || st.relu)
                        biasRows(y, st.bias.defined() ? st.bias.data_ptr<float>() : nullptr, m, units, st.relu, y);
                    w = units;
                } else if (st.relu) {
                    biasRows(x, nullptr, m, w, true, y);
                } else {
                    const auto in = torch::from_blob(x, {m, w}, options);
                    const auto res = (tower.begin() + static_cast<std::ptrdiff_t>(st.index))->forward(in).contiguous();
                    std::copy_n(res.data_ptr<float>(), m * w, y);
                }
                x = y;
            }
            if (x != target)
                std::copy_n(x, m * w, target);
        }
    return out;
}

} // namespace reclab
