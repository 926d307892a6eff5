#include "inspection/Projection.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace reclab {

PcaResult pca(const torch::Tensor& vectors, int dims)
{
    if (vectors.dim() != 2 || vectors.size(0) < 2)
        throw std::invalid_argument("PCA needs at least two vectors");
    if (dims < 1 || dims > vectors.size(1))
        throw std::invalid_argument("PCA of " + std::to_string(vectors.size(1)) + "-dimensional vectors cannot give " +
                                    std::to_string(dims) + " components");
    torch::NoGradGuard noGrad;
    const torch::Tensor x = vectors.to(torch::kDouble);
    const torch::Tensor centred = x - x.mean(0, true);
    // The covariance is d x d (d is an embedding size): its eigenvectors are cheap and exact.
    const torch::Tensor covariance = centred.t().mm(centred) / static_cast<double>(x.size(0) - 1);
    auto [values, vectorsOut] = torch::linalg_eigh(covariance, "L"); // ascending
    const torch::Tensor order = values.argsort(0, true).narrow(0, 0, dims);
    torch::Tensor components = vectorsOut.index_select(1, order);
    // Deterministic signs: the largest loading of each component is positive.
    const torch::Tensor largest = components.abs().argmax(0);
    const torch::Tensor signs = components.gather(0, largest.unsqueeze(0)).sign();
    components = components * torch::where(signs == 0, torch::ones_like(signs), signs);
    PcaResult r;
    r.components = components.to(torch::kFloat);
    r.coordinates = centred.mm(components).to(torch::kFloat);
    const double total = values.clamp_min(0).sum().item<double>();
    const torch::Tensor top = values.index_select(0, order).clamp_min(0);
    for (int k = 0; k < dims; ++k)
        r.explainedRatio.push_back(total > 0 ? top[k].item<double>() / total : 0.0);
    return r;
}

namespace {

// Squared Euclidean distances between the rows of y, [n, n], the diagonal exactly 0.
torch::Tensor squaredDistances(const torch::Tensor& y)
{
    const torch::Tensor norms = (y * y).sum(1, true);
    return (norms + norms.t() - 2.0 * y.mm(y.t())).clamp_min_(0.0).fill_diagonal_(0.0);
}

// Conditional affinities p_j|i over each point's 3 * perplexity nearest neighbours (the rest
// carry a negligible share, as in van der Maaten 2014 and scikit-learn), each row's Gaussian
// bandwidth found by bisection so that the row's entropy is log(perplexity), all rows at once;
// then symmetrised and normalised into a dense n x n matrix.
torch::Tensor jointProbabilities(const torch::Tensor& distances, double perplexity)
{
    const int64_t n = distances.size(0);
    const int64_t k = std::min<int64_t>(n - 1, static_cast<int64_t>(std::ceil(3.0 * perplexity)));
    // The k nearest of each row, itself excluded (its distance 0 is the smallest).
    auto [near, index] = (distances + torch::eye(n, distances.options()) * 1e300).topk(k, 1, false);
    const torch::Tensor shifted = near - near.select(1, 0).unsqueeze(1); // keeps exp() from underflowing
    const double target = std::log(perplexity);
    torch::Tensor beta = torch::ones({n, 1}, distances.options());
    torch::Tensor low = torch::zeros({n, 1}, distances.options());
    torch::Tensor high = torch::full({n, 1}, INFINITY, distances.options());
    torch::Tensor p;
    for (int step = 0; step < 100; ++step) {
        p = torch::exp(-shifted * beta);
        const torch::Tensor sum = p.sum(1, true);
        const torch::Tensor entropy = torch::log(sum) + beta * (shifted * p).sum(1, true) / sum;
        p = p / sum;
        const torch::Tensor tooFlat = entropy > target; // too wide a Gaussian: raise beta
        low = torch::where(tooFlat, beta, low);
        high = torch::where(tooFlat, high, beta);
        beta = torch::where(torch::isinf(high), beta * 2.0, (low + high) / 2.0);
        if ((entropy - target).abs().max().item<double>() < 1e-5)
            break;
    }
    torch::Tensor conditional = torch::zeros({n, n}, distances.options()).scatter_(1, index, p);
    torch::Tensor joint = (conditional + conditional.t()) / (2.0 * static_cast<double>(n));
    return joint.clamp_min_(1e-12);
}

} // namespace

namespace {

// One pass over the affinities for the gradient of KL(P || Q) with Q's Student-t kernel
// num_ij = 1 / (1 + |y_i - y_j|^2) and q_ij = num_ij / Z:
//   grad_i = 4 * sum_j (e p_ij - q_ij) num_ij (y_i - y_j)
//          = 4 * (e * A_i - B_i / Z),  A_i = sum_j p_ij num_ij (y_i - y_j),  B_i = sum_j num_ij^2 (y_i - y_j),
// so Z is not needed until the end and P is read once (not the ~8 passes over n x n tensors
// that the same formula as tensor operations costs). Rows in parallel; coordinates as two
// arrays so the inner loop vectorises. With withKl, also sum_ij p_ij log num_ij.
struct GradientPass {
    double z = 0.0;       // sum over i != j of num_ij
    double pLogNum = 0.0; // sum_ij p_ij log num_ij
};

GradientPass gradientPass(const float* p, const float* yx, const float* yy, int64_t n, double exaggeration, bool withKl,
                          float* gx, float* gy)
{
    std::vector<double> zParts(static_cast<size_t>(at::get_num_threads()) + 1, 0.0), klParts(zParts.size(), 0.0);
    std::vector<double> bx(static_cast<size_t>(n)), by(static_cast<size_t>(n));
    std::atomic<int> slot{0};
    at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
        double z = 0.0, kl = 0.0;
        for (int64_t i = begin; i < end; ++i) {
            const float xi = yx[i], yi = yy[i];
            const float* row = p + i * n;
            float ax = 0.f, ay = 0.f, sx = 0.f, sy = 0.f, zi = 0.f;
            // The sums may be reordered into vector lanes (built with -fopenmp-simd).
#pragma omp simd reduction(+ : ax, ay, sx, sy, zi)
            for (int64_t j = 0; j < n; ++j) {
                const float dx = xi - yx[j], dy = yi - yy[j];
                const float num = 1.f / (1.f + dx * dx + dy * dy);
                const float pn = row[j] * num, nn = num * num;
                ax += pn * dx;
                ay += pn * dy;
                sx += nn * dx;
                sy += nn * dy;
                zi += num;
            }
            if (withKl)
                for (int64_t j = 0; j < n; ++j) {
                    const float dx = xi - yx[j], dy = yi - yy[j];
                    kl -= static_cast<double>(row[j]) * std::log1p(static_cast<double>(dx * dx + dy * dy));
                }
            z += static_cast<double>(zi) - 1.0; // j == i contributes num = 1
            gx[i] = static_cast<float>(exaggeration) * ax;
            gy[i] = static_cast<float>(exaggeration) * ay;
            bx[static_cast<size_t>(i)] = sx;
            by[static_cast<size_t>(i)] = sy;
        }
        const auto at = static_cast<size_t>(slot++);
        zParts[std::min(at, zParts.size() - 1)] += z;
        klParts[std::min(at, klParts.size() - 1)] += kl;
    });
    GradientPass out;
    for (size_t k = 0; k < zParts.size(); ++k) {
        out.z += zParts[k];
        out.pLogNum += klParts[k];
    }
    const double inverseZ = 1.0 / out.z;
    for (int64_t i = 0; i < n; ++i) {
        gx[i] = 4.f * (gx[i] - static_cast<float>(bx[static_cast<size_t>(i)] * inverseZ));
        gy[i] = 4.f * (gy[i] - static_cast<float>(by[static_cast<size_t>(i)] * inverseZ));
    }
    return out;
}

} // namespace

torch::Tensor tsne(const torch::Tensor& vectors, const TsneOptions& o,
                   const std::function<void(const TsneProgress&)>& onProgress, const std::atomic<bool>* stop)
{
    const int64_t n = vectors.dim() == 2 ? vectors.size(0) : 0;
    if (n <= 3 * o.perplexity)
        throw std::invalid_argument("t-SNE with perplexity " + std::to_string(o.perplexity) + " needs more than " +
                                    std::to_string(static_cast<int64_t>(3 * o.perplexity)) + " points, not " +
                                    std::to_string(n));
    if (o.iterations < 1)
        throw std::invalid_argument("t-SNE needs at least one iteration");
    torch::NoGradGuard noGrad;
    const torch::Tensor x = vectors.to(torch::kDouble);
    // Affinities in double (the bisection needs it), the descent in float.
    const torch::Tensor P = jointProbabilities(squaredDistances(x), o.perplexity).to(torch::kFloat).contiguous();
    const double pLogP = (P * P.log()).sum().item<double>();

    // PCA start scaled to a standard deviation of 1e-4 (stable and reproducible), with jitter;
    // coordinates as two arrays (x's, then y's).
    torch::Tensor start = pca(x, 2).coordinates;
    start = start / start.select(1, 0).std().clamp_min(1e-12) * 1e-4;
    auto generator = at::detail::createCPUGenerator(o.seed);
    start = start + torch::randn(start.sizes(), generator, torch::TensorOptions().dtype(torch::kFloat)) * 1e-6;
    torch::Tensor y = start.t().contiguous(); // [2, n]
    torch::Tensor gradient = torch::empty_like(y);

    const double rate = o.learningRate > 0 ? o.learningRate : std::max(static_cast<double>(n) / o.exaggeration / 4.0, 50.0);
    torch::Tensor update = torch::zeros_like(y);
    torch::Tensor gains = torch::ones_like(y);
    for (int it = 1; it <= o.iterations; ++it) {
        const bool early = it <= o.exaggerationIterations;
        const bool stopping = stop && stop->load();
        const bool reporting = onProgress && (it % o.reportEvery == 0 || it == o.iterations || stopping);
        float* g = gradient.data_ptr<float>();
        const GradientPass pass = gradientPass(P.data_ptr<float>(), y.data_ptr<float>(), y.data_ptr<float>() + n, n,
                                               early ? o.exaggeration : 1.0, reporting, g, g + n);
        // Delta-bar-delta gains: grow where the step keeps its direction, shrink where it flips.
        const torch::Tensor same = (gradient > 0) == (update > 0);
        gains = torch::where(same, gains * 0.8, gains + 0.2).clamp_min_(0.01);
        update = (early ? 0.5 : 0.8) * update - rate * gains * gradient;
        y += update;
        if (reporting) // KL(P || Q) = sum p log p - sum p log num + log Z, of the map before this step
            onProgress({it, pLogP - pass.pLogNum + std::log(pass.z), (y.t() - y.t().mean(0, true)).contiguous()});
        if (stopping)
            break;
    }
    const torch::Tensor map = y.t();
    return (map - map.mean(0, true)).contiguous();
}

torch::Tensor procrustesAlign(const torch::Tensor& moving, const torch::Tensor& fixed)
{
    if (!fixed.defined() || fixed.sizes() != moving.sizes())
        return moving;
    const torch::Tensor a = (moving - moving.mean(0, true)).to(torch::kDouble);
    const torch::Tensor b = (fixed - fixed.mean(0, true)).to(torch::kDouble);
    auto [u, s, vh] = torch::linalg_svd(a.t().mm(b), /*full_matrices=*/false);
    return a.mm(u.mm(vh)).to(torch::kFloat);
}

torch::Tensor unitRows(const torch::Tensor& vectors)
{
    return vectors / vectors.norm(2, {1}, true).clamp_min(1e-12);
}

Neighbours cosineNeighbours(const torch::Tensor& unit, int64_t of, int64_t k)
{
    Neighbours out;
    if (of < 0 || of >= unit.size(0))
        return out;
    torch::Tensor similarity = unit.mv(unit[of]);
    similarity[of] = -2; // below any cosine: never its own neighbour
    k = std::min<int64_t>(k, similarity.size(0) - 1);
    if (k <= 0)
        return out;
    auto [values, which] = similarity.topk(k);
    const auto v = values.to(torch::kDouble).contiguous();
    const auto w = which.contiguous();
    out.similarity.assign(v.data_ptr<double>(), v.data_ptr<double>() + k);
    out.rows.assign(w.data_ptr<int64_t>(), w.data_ptr<int64_t>() + k);
    return out;
}

} // namespace reclab
