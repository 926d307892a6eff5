// Benchmark (not a test): the embedding projector's projections, medians of 5 (t-SNE: of 3).
//   PCA of 10,000 x 64 vectors to 2 dimensions;
//   t-SNE of 2,000 x 64 vectors (perplexity 30, 1,000 iterations), with the neighbour purity
//   of its map on 10 planted clusters as a check that it did its job.
//   Top-10 for one user on MovieLens-100K (NeuMF, ItemKNN and DIN, each trained briefly):
//   median over 100 users of recommend(), the model's scores of every item, seen items left
//   out, and the "because" items. DIN also as batches of candidates (the old path), with the
//   history shared, and with the attention table (and the table's build time).
// Run: build/tests/reclab-bench-projection [threads] [ml-100k folder] [recommend (only)]
#include "BenchStats.h"
#include "data/DatasetSource.h"
#include "compiled/GraphModule.h"
#include "zoo/ModelRegistry.h"
#include "models/Recommender.h"
#include "inspection/Projection.h"
#include "inspection/Recommendations.h"
#include "train/Trainer.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace reclab;
using reclab::bench::median;
using Clock = std::chrono::steady_clock;

namespace {
double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
} // namespace

int main(int argc, char** argv)
{
    if (argc > 1)
        at::set_num_threads(std::atoi(argv[1]));
    std::printf("LibTorch threads: %d\n", at::get_num_threads());
    const bool projections = argc < 4 || std::string(argv[3]) != "recommend";
    torch::manual_seed(0);
    if (projections) {
    const torch::Tensor big = torch::randn({10000, 64}) * torch::linspace(0.1, 3.0, 64);
    std::vector<double> pcaMs;
    for (int r = 0; r < 5; ++r) {
        const auto t = Clock::now();
        const PcaResult p = pca(big, 2);
        pcaMs.push_back(msSince(t));
        if (r == 0)
            std::printf("PCA explained %.3f + %.3f\n", p.explainedRatio[0], p.explainedRatio[1]);
    }
    // 10 clusters of 200 in 64 dimensions.
    const torch::Tensor centres = torch::randn({10, 64}) * 2.0;
    const torch::Tensor labels = torch::arange(10).repeat_interleave(200);
    const torch::Tensor points = centres.index_select(0, labels) + torch::randn({2000, 64});
    std::vector<double> tsneMs;
    for (int r = 0; r < 3; ++r) {
        const auto t = Clock::now();
        const torch::Tensor map = tsne(points);
        tsneMs.push_back(msSince(t));
        if (r == 0) {
            const torch::Tensor d = (map.unsqueeze(1) - map.unsqueeze(0)).norm(2, {2});
            const torch::Tensor nearest = std::get<1>(d.topk(11, 1, false)).narrow(1, 1, 10);
            const double purity = (labels.index_select(0, nearest.reshape(-1)).view({2000, 10}) == labels.unsqueeze(1))
                                      .to(torch::kDouble)
                                      .mean()
                                      .item<double>();
            std::printf("t-SNE neighbour purity (10 nearest, 10 planted clusters): %.3f\n", purity);
        }
    }
    std::printf("PCA 10,000 x 64: median %.1f ms\n", median(pcaMs));
    std::printf("t-SNE 2,000 x 64, 1,000 iterations: median %.2f s\n", median(tsneMs) / 1000.0);
    }
    const auto data = std::make_shared<const Dataset>(loadDataset(argc > 2 ? argv[2] : RECLAB_ML100K_DIR));
    const InteractionIndex index(*data);
    for (const char* name : {"neumf", "itemknn", "din"}) {
        TrainConfig c = defaultConfigFor(name);
        c.epochs = 1;
        c.pretrain = false;
        Trainer trainer(data, c);
        trainer.fit();
        auto model = trainer.model();
        model->eval();
        RecommendOptions o;
        o.historyLength = c.historyLength;
        auto timeRecommend = [&](const char* how) {
            recommend(*model, index, 0, o);
            std::vector<double> ms;
            for (int32_t u = 0; u < 100; ++u) {
                const auto t = Clock::now();
                const auto recs = recommend(*model, index, u, o);
                ms.push_back(msSince(t));
            }
            std::printf("top-10 for one user, %s%s on %s: median %.2f ms (100 users)\n", name, how, data->name.c_str(),
                        median(ms));
        };
        auto* graph = dynamic_cast<GraphModelImpl*>(model.get());
        if (!graph || graph->family() != ModelFamily::Sequential) {
            timeRecommend("");
            continue;
        }
        // DIN three ways: every candidate a row of a batch with the history repeated (the
        // trainer's evaluation path), the history shared by all candidates, and the latter with
        // the attention table.
        std::vector<double> batchMs;
        const torch::NoGradGuard noGrad;
        const auto all = torch::arange(data->numItems(), torch::kLong);
        for (int32_t u = 0; u < 20; ++u) {
            const auto t = Clock::now();
            const auto history = userHistory(index, u, o.historyLength);
            for (int64_t from = 0; from < data->numItems(); from += 128)
                model->predictBatch(behaviourBatch(u, history, all.narrow(0, from, std::min<int64_t>(128, data->numItems() - from)),
                                                   data->numItems(), o.historyLength, torch::kCPU));
            batchMs.push_back(msSince(t));
        }
        std::printf("scores of every item for one user, din as batches of 128 candidates: median %.2f ms (20 users)\n",
                    median(batchMs));
        timeRecommend(" (history shared)");
        std::vector<double> tableMs;
        for (int r = 0; r < 3; ++r) {
            const auto t = Clock::now();
            graph->parameters().front().add_(0.0f); // a new version: the table of the last build is stale
            if (!graph->prepareAttentionTable())
                std::printf("no attention table for this graph\n");
            tableMs.push_back(msSince(t));
        }
        std::printf("din attention table, %lld x %lld items: median %.0f ms (3 builds)\n",
                    static_cast<long long>(data->numItems()), static_cast<long long>(data->numItems()), median(tableMs));
        timeRecommend(" (history shared, attention table)");
    }
    return 0;
}
