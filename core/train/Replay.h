// New items over time: a model kept up to date day by day. growInto() carries a trained model's
// weights into one built for more users and items (their rows kept, new rows fresh), and
// replayDays() replays the data's last days: each day the models trained so far rank that day's
// interactions (HR@10, NDCG@10 against sampled negatives), then the incremental model trains on
// the day's rows (with a sample of earlier ones, against forgetting) while the reference is
// retrained from scratch on everything so far. Qt-free.
#pragma once

#include "data/Dataset.h"
#include "runs/TrainConfig.h"

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace reclab {

class Recommender;
class Trainer;

// Where each old user and item went in other data (-1: gone), and how many the new data has.
struct RowMaps {
    std::vector<int64_t> users, items;
    int64_t newUsers = 0, newItems = 0;
    bool empty() const { return users.empty() && items.empty(); }
};
// The maps between two datasets by raw ids (users and items found by the ids the files write).
RowMaps rowMapsByIds(const Dataset& before, const Dataset& after);

// Copies old's parameters into fresh by name: equal shapes whole; a table that grew (more rows,
// same width) keeps its first rows (users and items numbered by first use keep their numbers,
// Preparation.h keepRows) and its new rows as fresh has them. With maps, a user or item table
// (found by its row count, by its name where users and items are as many) moves each old row to
// its new place instead, rows of users and items the new data lacks are dropped. Buffers are
// fresh's (they are data: categories, profile codes). Throws Error naming a parameter that cannot
// be carried over.
void growInto(Recommender& fresh, const Recommender& old, const RowMaps& maps = {});

// A run continued on new interactions: `trainer` (configured as the stored run, on the new data)
// starts from the stored model's weights, its tables grown for the new users and items.
void continueFrom(Trainer& trainer, std::shared_ptr<const Recommender> stored, const Dataset& storedData,
                  const Dataset& newData);

struct ReplayConfig {
    TrainConfig train;       // the model and its settings; epochs: the full retraining's
    int days = 14;           // the last days with interactions, replayed one by one
    int updateEpochs = 2;    // the incremental update's epochs over each day
    double earlierRows = 4;  // earlier rows replayed per new row in an update
    bool retrain = true;     // also retrain from scratch each day (the reference line)
    int negatives = 100;     // sampled negatives per test interaction
};

struct ReplayDay {
    int64_t day = 0;         // days since 1970-01-01 (UTC)
    std::string date;        // "1998-04-08"
    int64_t rows = 0;        // the day's interactions (the test cases)
    int64_t users = 0, newUsers = 0, newItems = 0;
    double hrIncremental = 0, ndcgIncremental = 0, secondsIncremental = 0;
    double hrRetrained = 0, ndcgRetrained = 0, secondsRetrained = 0; // retrain false: 0
};

struct ReplayResult {
    int64_t baseRows = 0; // rows before the first replayed day
    double baseSeconds = 0;
    std::vector<ReplayDay> days;
};

// Throws ConfigError for data without timestamps or fewer days than asked, and for models the
// replay cannot update (counted models, histories, item text whose vocabulary changes).
// onDay after each day; stop (when set) ends the replay after the current step.
ReplayResult replayDays(const Dataset& data, const ReplayConfig& config,
                        const std::function<void(const ReplayDay&)>& onDay = {},
                        const std::atomic<bool>* stop = nullptr);

} // namespace reclab
