#include "runs/TrainFields.h"

#include "runs/Protocols.h"
#include "util/Error.h"
#include "util/OptionLimits.h"
#include "util/Words.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace reclab {

namespace {

using C = TrainConfig;

std::vector<std::string> protocolChoices()
{
    std::vector<std::string> ids;
    for (const auto& p : protocolCatalogue())
        ids.push_back(p.id);
    return ids;
}

TrainField field(const char* key, const char* option, TrainMember member, const char* help = nullptr, int64_t lo = 0,
                 int64_t hi = 0)
{
    return {key, option, member, help, lo, hi, {}, false, false, false};
}

std::vector<TrainField> buildFields()
{
    std::vector<TrainField> f;
    auto whole = [&](const char* key, const char* option, int C::*member, const char* help, int64_t lo, int64_t hi,
                     bool resumable = false) {
        f.push_back(field(key, option, member, help, lo, hi));
        f.back().resumable = resumable;
    };
    auto real = [&](const char* key, const char* option, double C::*member, const char* help) {
        f.push_back(field(key, option, member, help));
    };
    auto text = [&](const char* key, const char* option, std::string C::*member, const char* help,
                    std::vector<std::string> choices, bool emptyAllowed = false) {
        f.push_back(field(key, option, member, help));
        f.back().choices = std::move(choices);
        f.back().emptyAllowed = emptyAllowed;
    };
    auto sizes = [&](const char* key, const char* option, std::vector<int64_t> C::*member, const char* help) {
        f.push_back(field(key, option, member, help, 1, 65536));
        f.back().architecture = true;
    };

    f.push_back(field("model", "model", &C::model)); // the CLI's --model picks the defaults first
    whole("epochs", "epochs", &C::epochs,
          "Training epochs (default: the model's: 9 for gmf/mlp/neumf, 20 for bpr, 60 for mf, 200 Gibbs sweeps for bpmf, 2 for base and din, 40 for gru4rec, 60 for sasrec, 20 for caser, 10 for narm and seq2seq, 2 for cnn_lstm)", 1,
          100000, true);
    whole("batch_size", "batch", &C::batchSize, "Mini-batch size (default 256; 32 windows for gru4rec and sasrec)", 1, 1 << 24);
    real("learning_rate", "lr", &C::learningRate, "Learning rate (default: the model's, 0.0007 for mf, 0.002 for sasrec, 0.001 for the others)");
    real("l2", "l2", &C::l2,
         "L2 weight: mf on the batch's factors and biases (default 0.115), gmf/mlp/neumf on the batch's embedding rows "
         "(0.001), bpr on the batch's factors (0), base/din mini-batch aware on the batch's item embeddings (0.1)");
    text("optimizer", "optimizer", &C::optimizer, "adam (default), sgd or adagrad, with torch.optim's update rules",
         {"adam", "sgd", "adagrad"});
    real("weight_decay", "weight-decay", &C::weightDecay,
         "The optimizer's L2 on every parameter, as torch.optim's weight_decay (default 0)");
    real("momentum", "momentum", &C::momentum, "sgd: momentum (default 0)");
    text("lr_schedule", "lr-schedule", &C::lrSchedule,
         "constant (default), or cosine: each step's learning rate --lr times (1 + cos(pi t)) / 2, t the share of the "
         "epochs done, annealing to zero at the last (sasrec's default)",
         {"constant", "cosine"});
    f.push_back(field("seed", "seed", &C::seed, "Seed for the split, the sampled negatives and the initial weights (default 42)"));
    whole("threads", "threads", &C::threads,
          "LibTorch intra-op threads and RecLab's evaluation threads (default: LibTorch's own intra-op choice, one "
          "evaluation thread per core)",
          0, 1024, true);
    text("device", "device", &C::device, "cpu (default), cuda or cuda:N", {});
    f.back().resumable = true;
    whole("world_size", "processes", &C::worldSize,
          "Train on N processes of this machine, data-parallel over PyTorch's c10d (Gloo on the CPU, NCCL on GPUs: "
          "each process its own cuda:LOCAL_RANK); under torchrun the world is WORLD_SIZE's (default 1)",
          1, 1024, true);
    text("gradient_exchange", "gradient-exchange", &C::gradientExchange,
         "With several processes: rows (default), each embedding table's gradient sent as the rows a step touched; "
         "dense, every gradient in one all-reduce",
         {"rows", "dense"});
    f.back().resumable = true;
    whole("negatives", "negatives", &C::negatives,
          "Sampled negatives per positive for implicit models (default: the model's, 8 for gmf/mlp/neumf, 1 for bpr)", 1,
          1000);
    whole("factors", "factors", &C::factors,
          "Latent factors: GMF size for neumf/gmf, MF size for mf and bpr (64) and bpmf (10), embedding per field for base/din (16)", 1,
          4096);
    f.back().architecture = true;
    sizes("mlp_layers", "mlp-layers", &C::mlpLayers,
          "mlp/neumf: tower sizes, the first twice the embedding (default 256,128,64); base/din: hidden sizes of the "
          "network over pooled behaviours and candidate (default 200,80)");
    f.push_back(field("pretrain", "pretrain", &C::pretrain)); // the CLI's --pretrain and --no-pretrain
    real("pretrain_alpha", "pretrain-alpha", &C::pretrainAlpha, nullptr);
    text("similarity", "similarity", &C::similarity, "itemknn/userknn: cosine (default) or pearson", {"cosine", "pearson"});
    whole("neighbours", "neighbours", &C::neighbours, "itemknn/userknn: neighbours kept per item or user (default 100)", 1,
          1000000);
    real("shrink", "shrink", &C::shrink, "itemknn/userknn: shrinkage added to the similarity's denominator (default 0)");
    whole("burn_in", "burn-in", &C::burnIn,
          "bpmf: Gibbs sweeps (epochs) drawn before the predictions are averaged over the samples (default 20)", 0,
          100000);
    sizes("attention_layers", "attention-layers", &C::attentionLayers,
          "din: hidden sizes of the local activation unit (default 80,40)");
    text("activation", "activation", &C::activation, "base/din: dice (default) or prelu", {"dice", "prelu"});
    f.back().architecture = true;
    whole("history_length", "history", &C::historyLength,
          "base/din: latest behaviours kept per sample; sequence models: the length of the training windows and "
          "of the history scored (default 50; also --max-length)",
          1, 10000);
    f.back().alias = "max-length";
    text("loss", "loss", &C::loss,
         "Sequence models: ce (default), every position of windows of the history predicting its next item, "
         "cross-entropy over all items; bce, the same targets each against --negatives sampled items (the SASRec "
         "paper's loss); bpr, each target ranked above one sampled item",
         {"ce", "bce", "bpr"});
    real("label_smoothing", "label-smoothing", &C::labelSmoothing,
         "Sequence models with --loss ce: the share of each target's label spread evenly over every item, "
         "(1 - e) CE + e mean over items of -log p (default: 0.1 for gru4rec and sasrec, 0 for the others)");
    text("text_fields", "text-fields", &C::textFields,
         "Text models: the fields of an item's words, from title, genres, tags, year (default "
         "title,genres,tags,year, those the data has)",
         {});
    whole("text_min_count", "text-min-count", &C::textMinCount,
          "Text models: words seen fewer times leave the vocabulary (default 2)", 1, 1000000);
    text("word_vectors", "word-vectors", &C::wordVectors,
         "Word vectors a word embedding starts from: train (fastText skip-gram on the dataset's text, --word-dim "
         "wide) or a file (word2vec text or binary, GloVe .txt, fastText .vec; also --vectors); default none",
         {}, true);
    f.back().alias = "vectors";
    whole("word_dim", "word-dim", &C::wordDim,
          "Text models: the word vectors' dimension (default 64; a vectors file's own)", 1, 4096);
    f.back().architecture = true;
    real("positive_rating", "positive-rating", &C::positiveRating,
         "base/din: a sample is positive when its rating is at least this (default 4)");
    text("protocol", "protocol", &C::protocol, nullptr, protocolChoices(), true); // help from the catalogue
    whole("fold", "fold", &C::fold, "With --protocol folds: which of u1..u5 (default 1)", 1, 5);
    whole("eval_negatives", "eval-negatives", &C::evalNegatives, nullptr, 1, 100000);
    whole("top_k", "k", &C::topK, nullptr, 1, 10000);
    real("test_fraction", "test-fraction", &C::testFraction, nullptr);
    real("cold_share", "cold-share", &C::coldShare,
         "With --protocol cold: the share of items held out with all their interactions (default 0.1)");
    whole("report_every_batches", "report-every", &C::reportEveryBatches, nullptr, 1, std::numeric_limits<int>::max());
    text("validation_metric", "validation-metric", &C::validationMetric,
         "Early stopping on this metric of a validation part held out of the training data (each user's latest but "
         "one interaction for loo/full/common, 10% of the ratings or users otherwise): hr, ndcg, mrr (at 10), rmse, mae, "
         "auc, gauc, logloss; with --protocol common also full_hr, full_ndcg, full_mrr (against every unseen item). "
         "The best epoch's weights are kept and tested once at the end",
         {}, true);
    whole("patience", "patience", &C::patience,
          "With --validation-metric: epochs without improvement before stopping (default 3, 0: never early)", 0, 100000);
    real("validation_fraction", "validation-fraction", &C::validationFraction,
         "With --validation-metric: share of ratings (holdout, folds) or users (din) validated on (default 0.1)");
    text("duplicates", "duplicates", &C::duplicates, nullptr, {"latest", "keep"}, true); // --dedup, --keep-duplicates
    return f;
}

[[noreturn]] void refuse(const TrainField& f, const std::string& problem) { throw ConfigError(f.option, problem); }

int64_t wholeFromText(const TrainField& f, const std::string& text)
{
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || errno == ERANGE)
        refuse(f, "expected a whole number, got '" + text.substr(0, 40) + "'");
    return v;
}

} // namespace

const std::vector<TrainField>& trainFields()
{
    static const std::vector<TrainField> fields = buildFields();
    return fields;
}

const TrainField* trainField(const std::string& option)
{
    for (const auto& f : trainFields())
        if (option == f.option)
            return &f;
    return nullptr;
}

void setFieldFromText(TrainConfig& c, const TrainField& f, const std::string& text)
{
    std::visit(
        [&](auto member) {
            using T = std::decay_t<decltype(c.*member)>;
            if constexpr (std::is_same_v<T, std::string>) {
                c.*member = text;
            } else if constexpr (std::is_same_v<T, bool>) {
                if (text != "true" && text != "false")
                    refuse(f, "expected true or false, got '" + text.substr(0, 40) + "'");
                c.*member = text == "true";
            } else if constexpr (std::is_same_v<T, double>) {
                char* end = nullptr;
                const double v = std::strtod(text.c_str(), &end);
                if (text.empty() || *end != '\0')
                    refuse(f, "expected a number, got '" + text.substr(0, 40) + "'");
                c.*member = v;
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                errno = 0;
                char* end = nullptr;
                const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
                if (text.empty() || text[0] == '-' || *end != '\0' || errno == ERANGE)
                    refuse(f, "expected a whole number from 0 to 18446744073709551615, got '" + text.substr(0, 40) + "'");
                c.*member = v;
            } else if constexpr (std::is_same_v<T, int>) {
                const int64_t v = wholeFromText(f, text);
                if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
                    refuse(f, "out of range: " + text.substr(0, 40));
                c.*member = static_cast<int>(v);
            } else { // sizes, comma-separated
                std::vector<int64_t> sizes;
                std::stringstream parts(text);
                for (std::string part; std::getline(parts, part, ',');)
                    sizes.push_back(wholeFromText(f, part));
                c.*member = sizes;
            }
        },
        f.member);
    checkField(c, f);
}

void checkField(const TrainConfig& c, const TrainField& f)
{
    auto range = [&] { return std::to_string(f.min) + " to " + std::to_string(f.max); };
    std::visit(
        [&](auto member) {
            using T = std::decay_t<decltype(c.*member)>;
            const T& v = c.*member;
            if constexpr (std::is_same_v<T, int>) {
                if (v < f.min || v > f.max)
                    refuse(f, "expected " + range() + ", got " + std::to_string(v));
            } else if constexpr (std::is_same_v<T, double>) {
                requireNumber(f.option, v);
            } else if constexpr (std::is_same_v<T, std::string>) {
                if (f.choices.empty() || (f.emptyAllowed && v.empty()))
                    return;
                for (const auto& choice : f.choices)
                    if (v == choice)
                        return;
                refuse(f, "expected " + joinWords(f.choices, " or ") + ", got '" + v.substr(0, 40) + "'");
            } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
                if (v.empty())
                    refuse(f, "expected at least one size");
                for (const auto size : v)
                    if (size < f.min || size > f.max)
                        refuse(f, "every size must be " + range());
            }
        },
        f.member);
}

} // namespace reclab
