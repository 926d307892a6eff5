// `reclab-cli graph export`: a trained graph run as a TorchScript module (needs LibTorch).
#include "CliErrors.h"
#include "GraphCommand.h"

#include "compiled/GraphExport.h"
#include "store/ExperimentStore.h"
#include "util/Error.h"

#include <iostream>

namespace reclab::cli {

int runGraphExport(const GraphOptions& o)
{
    const std::string dbPath = o.db.empty() ? defaultDatabasePath() : o.db;
    try {
        ExperimentStore store(dbPath);
        if (!store.findRun(o.run))
            throw StoreError(dbPath + ": no run " + std::to_string(o.run));
        GraphModel model = loadTrainedGraph(runArtifactDir(dbPath, o.run));
        const std::string signature = exportTorchScript(*model, o.out);
        std::cout << "wrote " << o.out << " (" << model->graph().name << ", run " << o.run << "): torch.jit.load(\""
                  << o.out << "\")." << signature << std::endl;
        return 0;
    } catch (const std::exception& e) {
        return reportFailure(e);
    }
}

} // namespace reclab::cli
