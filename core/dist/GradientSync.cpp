#include "dist/GradientSync.h"

#include "dist/RankGroup.h"
#include "train/FlatOptimizer.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>

namespace reclab {

namespace {

// A parameter sent as rows: a table of ids (users, items, words), many more rows than columns.
bool isTable(const torch::Tensor& p)
{
    return p.dim() == 2 && p.size(0) >= 256 && p.size(0) >= 4 * p.size(1);
}

// The rows of a [rows, dim] gradient with a number other than zero, ascending. On the CPU one
// read of the table (most rows are zero: a step touches a batch's users and items), on a GPU
// the same by tensor operations.
torch::Tensor touchedRows(const torch::Tensor& table)
{
    if (!table.is_cpu())
        return table.ne(0).any(1).nonzero().squeeze(1);
    const int64_t rows = table.size(0), dim = table.size(1);
    const float* g = table.data_ptr<float>();
    const int chunks = std::max(1, std::min(at::get_num_threads(), static_cast<int>(rows / 4096)));
    std::vector<std::vector<int64_t>> found(static_cast<size_t>(chunks));
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c)
            for (int64_t r = rows * c / chunks; r < rows * (c + 1) / chunks; ++r) {
                const float* row = g + r * dim;
                for (int64_t k = 0; k < dim; ++k)
                    if (row[k] != 0.0f) {
                        found[static_cast<size_t>(c)].push_back(r);
                        break;
                    }
            }
    });
    std::vector<int64_t> all;
    for (const auto& part : found)
        all.insert(all.end(), part.begin(), part.end());
    return torch::tensor(all, torch::kLong);
}

// Rows are packed as 32-bit indices in the float payload, bit for bit (an all-gather only copies).
torch::Tensor indicesAsFloats(const torch::Tensor& rows)
{
    return rows.to(torch::kInt32).view(torch::kFloat32);
}

} // namespace

GradientSync::GradientSync(RankGroup& group, FlatOptimizer& optimizer, bool rowExchange)
    : group_(group), optimizer_(optimizer)
{
    int64_t offset = 0;
    for (const auto& p : optimizer.parameters()) {
        const int64_t n = p.numel();
        if (rowExchange && isTable(p)) {
            tables_.push_back({offset, p.size(0), p.size(1)});
        } else if (!dense_.empty() && dense_.back().first + dense_.back().second == offset) {
            dense_.back().second += n; // neighbours in the flat buffer: one copy
        } else {
            dense_.emplace_back(offset, n);
        }
        offset += n;
    }
    for (const auto& [start, length] : dense_)
        denseNumel_ += length;
}

double GradientSync::denseBytesPerStep() const
{
    const double n = group_.size();
    return 2.0 * (n - 1) / n * static_cast<double>(optimizer_.numel() + 2) * sizeof(float);
}

GradientSync::Result GradientSync::exchange(const torch::Tensor& weightedLoss, bool stopVote)
{
    torch::NoGradGuard noGrad;
    group_.countStep();
    const torch::Tensor& grad = optimizer_.flatGradient();
    const int size = group_.size();
    const auto tables = static_cast<int64_t>(tables_.size());

    // The rows each table's gradient touches on this rank.
    std::vector<torch::Tensor> rows(tables_.size());
    std::vector<torch::Tensor> views(tables_.size());
    for (size_t t = 0; t < tables_.size(); ++t) {
        const Table& table = tables_[t];
        views[t] = grad.narrow(0, table.offset, table.rows * table.dim).view({table.rows, table.dim});
        rows[t] = touchedRows(views[t]);
    }

    // One all-reduce: the dense gradients, the loss, the stop vote, each rank's row counts.
    const int64_t tail = 2 + size * tables;
    torch::Tensor buffer = torch::empty({denseNumel_ + tail}, grad.options());
    int64_t at = 0;
    for (const auto& [start, length] : dense_) {
        buffer.narrow(0, at, length).copy_(grad.narrow(0, start, length));
        at += length;
    }
    torch::Tensor extra = torch::zeros({tail}, torch::kFloat32);
    extra[1] = stopVote ? 1.0f : 0.0f;
    for (int64_t t = 0; t < tables; ++t)
        extra[2 + group_.rank() * tables + t] = static_cast<float>(rows[t].size(0));
    buffer.narrow(0, at, tail).copy_(extra);
    buffer.narrow(0, at, 1).copy_(weightedLoss.detach().reshape({1}));
    group_.allreduceSum(buffer);
    at = 0;
    for (const auto& [start, length] : dense_) {
        grad.narrow(0, start, length).copy_(buffer.narrow(0, at, length));
        at += length;
    }
    const torch::Tensor shared = buffer.narrow(0, at, tail).to(torch::kCPU);
    const auto values = shared.accessor<float, 1>();
    Result result{values[0], values[1] > 0.5f};
    if (tables == 0)
        return result;

    // Each table as rows, unless its rows would cost more than its dense sum this step.
    std::vector<std::vector<int64_t>> counts(static_cast<size_t>(size), std::vector<int64_t>(tables_.size()));
    for (int r = 0; r < size; ++r)
        for (int64_t t = 0; t < tables; ++t)
            counts[r][t] = static_cast<int64_t>(values[2 + r * tables + t]);
    std::vector<bool> asRows(tables_.size());
    std::vector<torch::Tensor> denseTables;
    for (size_t t = 0; t < tables_.size(); ++t) {
        int64_t most = 0;
        for (int r = 0; r < size; ++r)
            most = std::max(most, counts[r][t]);
        const Table& table = tables_[t];
        asRows[t] = static_cast<double>(size) * most * (table.dim + 1) < 2.0 * table.rows * table.dim;
        if (!asRows[t])
            denseTables.push_back(views[t].reshape({-1}));
    }
    if (!denseTables.empty()) {
        torch::Tensor sum = torch::cat(denseTables);
        group_.allreduceSum(sum);
        int64_t from = 0;
        for (size_t t = 0; t < tables_.size(); ++t)
            if (!asRows[t]) {
                views[t].view({-1}).copy_(sum.narrow(0, from, views[t].numel()));
                from += views[t].numel();
            }
    }

    // One all-gather of every rank's rows (indices, then values, table by table), padded to the
    // largest rank's payload.
    std::vector<int64_t> payload(static_cast<size_t>(size), 0);
    for (int r = 0; r < size; ++r)
        for (size_t t = 0; t < tables_.size(); ++t)
            if (asRows[t])
                payload[r] += counts[r][t] * (1 + tables_[t].dim);
    const int64_t widest = *std::max_element(payload.begin(), payload.end());
    if (widest == 0)
        return result;
    torch::Tensor pack = torch::zeros({widest}, grad.options());
    at = 0;
    for (size_t t = 0; t < tables_.size(); ++t) {
        if (!asRows[t])
            continue;
        const int64_t c = rows[t].size(0);
        pack.narrow(0, at, c).copy_(indicesAsFloats(rows[t]));
        at += c;
        pack.narrow(0, at, c * tables_[t].dim).copy_(views[t].index_select(0, rows[t]).reshape({-1}));
        at += c * tables_[t].dim;
    }
    const torch::Tensor gathered = group_.allgather(pack);
    for (size_t t = 0; t < tables_.size(); ++t)
        if (asRows[t]) // only this rank's rows are not zero
            views[t].index_fill_(0, rows[t], 0.0f);
    // In rank order on every rank, so every rank adds the same numbers the same way.
    for (int r = 0; r < size; ++r) {
        const torch::Tensor from = gathered[r];
        at = 0;
        for (size_t t = 0; t < tables_.size(); ++t) {
            if (!asRows[t])
                continue;
            const int64_t c = counts[r][t];
            const int64_t d = tables_[t].dim;
            const torch::Tensor index = from.narrow(0, at, c).view(torch::kInt32).to(torch::kInt64);
            at += c;
            views[t].index_add_(0, index, from.narrow(0, at, c * d).view({c, d}));
            at += c * d;
            rowsSent_ += r == group_.rank() ? c : 0;
        }
    }
    return result;
}

void requireSameWeights(RankGroup& group, const FlatOptimizer& optimizer, int epoch)
{
    torch::NoGradGuard noGrad;
    const torch::Tensor flat = optimizer.stateTensors().front().to(torch::kDouble);
    const torch::Tensor sums = torch::stack(
        {flat.sum(), flat.square().sum(), (flat * torch::arange(flat.numel(), flat.options()).remainder(97)).sum()});
    const torch::Tensor all = group.allgather(sums).to(torch::kCPU);
    const auto values = all.accessor<double, 2>();
    for (int r = 1; r < group.size(); ++r)
        for (int k = 0; k < 3; ++k)
            if (values[r][k] != values[0][k])
                throw Error("rank " + std::to_string(r) + "'s weights differ from rank 0's after epoch " +
                            std::to_string(epoch) + " (checksum " + std::to_string(values[r][k]) + " against " +
                            std::to_string(values[0][k]) + "): the ranks no longer train one model");
}

} // namespace reclab
