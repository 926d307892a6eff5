// libFuzzer target for the LibTorch files RecLab reads back: a training checkpoint (last.pt,
// best.pt) restored into a small GMF and its optimizer, an embedding snapshot (index.json and an
// epoch file) and a trained graph (graph.json and weights.pt). The first byte picks which; the
// rest is cut into the files at "\n#--\n". Any bytes end in a restored model or a reclab::Error,
// never in LibTorch's own exceptions, a crash or a sanitizer report.
#include "FuzzFiles.h"

#include "compiled/GraphExport.h"
#include "zoo/ModelFactory.h"
#include "zoo/ModelRegistry.h"
#include "models/Recommender.h"
#include "train/EmbeddingSnapshots.h"
#include "train/Checkpoint.h"
#include "train/FlatOptimizer.h"
#include "util/Error.h"

using namespace reclab;

namespace {

std::shared_ptr<Recommender> smallModel()
{
    static const ItemSideData items;
    static const UserSideData users;
    ModelShape shape;
    shape.numUsers = 6;
    shape.numItems = 7;
    shape.itemData = &items;
    shape.userData = &users;
    TrainConfig config = defaultConfigFor("gmf");
    config.factors = 4;
    return createModel(*findModel("gmf"), shape, config);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1)
        return 0;
    const std::string dir = fuzz::freshFolder("torch");
    try {
        switch (data[0] % 3) {
        case 0: {
            const std::string path =
                fuzz::writeFile(dir + "/last.pt", std::string(reinterpret_cast<const char*>(data + 1), size - 1));
            CheckpointReader reader(path);
            reader.requireIdentity({1, "0123456789abcdef", "fedcba9876543210"});
            auto model = smallModel();
            reader.restoreModel(*model);
            FlatOptimizer optimizer(model->parameters(), OptimizerOptions{});
            reader.restoreOptimizer(optimizer);
            break;
        }
        case 1: {
            const auto parts = fuzz::splitInput(data + 1, size - 1, 2);
            std::filesystem::create_directories(dir + "/embeddings");
            fuzz::writeFile(dir + "/embeddings/index.json", parts[0]);
            if (parts.size() > 1)
                fuzz::writeFile(dir + "/embeddings/epoch-0001.pt", parts[1]);
            for (const auto& snapshot : listEmbeddingSnapshots(dir))
                for (const auto& table : readEmbeddingSnapshot(dir, snapshot.epoch))
                    if (table.weights.dim() != 2)
                        std::abort();
            break;
        }
        default: {
            const auto parts = fuzz::splitInput(data + 1, size - 1, 2);
            fuzz::writeFile(dir + "/graph.json", parts[0]);
            if (parts.size() > 1)
                fuzz::writeFile(dir + "/weights.pt", parts[1]);
            (void)loadTrainedGraph(dir);
        }
        }
    } catch (const Error&) {
    }
    return 0;
}
