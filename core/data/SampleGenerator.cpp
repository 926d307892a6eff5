#include "data/SampleGenerator.h"

#include "util/Random.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

namespace reclab {

namespace {

const char* const kAdjectives[] = {"Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight",
                                   "Lost", "Electric", "Wild", "Frozen", "Secret", "Distant", "Burning",
                                   "Quiet", "Restless", "Iron", "Paper", "Velvet", "Hollow"};
const char* const kNouns[] = {"Harbor", "Garden", "Frontier", "Empire", "Letter", "River", "Machine",
                              "Summer", "Kingdom", "Detective", "Orchard", "Signal", "Voyage", "Mirror",
                              "Station", "Carnival", "Island", "Witness", "Symphony", "Lantern"};

// Each genre's own title words: most titles take their noun from the primary genre's list, so
// a title's words tell its genre (what content models and word vectors can learn).
const char* const kGenreWords[12][8] = {
    {"Widow", "Promise", "Verdict", "Inheritance", "Silence", "Farewell", "Confession", "Homecoming"},   // Drama
    {"Wedding", "Prank", "Roommates", "Pickle", "Blunder", "Picnic", "Vacation", "Mixup"},               // Comedy
    {"Bullet", "Chase", "Heist", "Mercenary", "Showdown", "Rampage", "Convoy", "Commando"},              // Action
    {"Kiss", "Valentine", "Sweetheart", "Honeymoon", "Serenade", "Rose", "Embrace", "Courtship"},       // Romance
    {"Conspiracy", "Hostage", "Alibi", "Stalker", "Ransom", "Informant", "Blackmail", "Countdown"},     // Thriller
    {"Android", "Galaxy", "Starship", "Cyborg", "Nebula", "Wormhole", "Robot", "Asteroid"},             // Sci-Fi
    {"Ghoul", "Crypt", "Haunting", "Vampire", "Curse", "Zombie", "Exorcism", "Graveyard"},              // Horror
    {"Puppy", "Dragonfly", "Toybox", "Bunny", "Cartoon", "Penguin", "Balloon", "Kitten"},               // Animation
    {"Chronicle", "Archive", "Expedition", "Census", "Interview", "Evidence", "Survey", "Biography"},    // Documentary
    {"Wizard", "Sorcerer", "Unicorn", "Enchantress", "Goblin", "Amulet", "Spellbook", "Elf"},           // Fantasy
    {"Clue", "Riddle", "Inspector", "Whodunit", "Cipher", "Locket", "Butler", "Enigma"},                 // Mystery
    {"Outlaw", "Saloon", "Sheriff", "Stagecoach", "Rodeo", "Gunslinger", "Canyon", "Mustang"},          // Western
};

// Genre popularity shares: a few big genres, a tail of small ones.
const double kGenreShare[] = {0.16, 0.15, 0.14, 0.10, 0.09, 0.07, 0.05, 0.06, 0.06, 0.05, 0.04, 0.03};
constexpr int32_t kGenres = 12;
constexpr size_t kRecentPicks = 20;
constexpr int64_t kStartTime = 1420070400; // 2015-01-01

int32_t drawWeighted(Random& rng, const double* weights, int32_t n)
{
    double total = 0;
    for (int32_t k = 0; k < n; ++k)
        total += weights[k];
    double x = rng.uniform() * total;
    for (int32_t k = 0; k < n; ++k) {
        x -= weights[k];
        if (x < 0)
            return k;
    }
    return n - 1;
}

struct PlannedUser {
    std::vector<double> taste;
    std::vector<int32_t> startGenres, endGenres;
    int32_t count = 0;
    int64_t firstTime = 0;
};

// The users' hidden parameters, drawn first so that plantedInterests() needs no items.
std::vector<PlannedUser> planUsers(const SampleConfig& c, Random& rng,
                                   const std::vector<std::vector<double>>& centres)
{
    std::vector<PlannedUser> users(static_cast<size_t>(c.users));
    for (auto& u : users) {
        const int32_t a = drawWeighted(rng, kGenreShare, kGenres);
        int32_t b = drawWeighted(rng, kGenreShare, kGenres);
        while (b == a)
            b = drawWeighted(rng, kGenreShare, kGenres);
        int32_t next = static_cast<int32_t>(rng.below(kGenres));
        while (next == a || next == b)
            next = static_cast<int32_t>(rng.below(kGenres));
        u.startGenres = {a, b};
        u.endGenres = {a, next}; // b fades, next grows
        u.taste.assign(static_cast<size_t>(c.factors), 0.0);
        for (int32_t f = 0; f < c.factors; ++f)
            u.taste[static_cast<size_t>(f)] = 0.6 * centres[static_cast<size_t>(a)][static_cast<size_t>(f)] +
                                              0.4 * centres[static_cast<size_t>(b)][static_cast<size_t>(f)] +
                                              0.35 * rng.normal();
        const double extra = std::exp(rng.normal() * 0.9) * 12.0;
        u.count = std::min(c.maxPerUser, c.minPerUser + static_cast<int32_t>(extra));
        u.firstTime = kStartTime + static_cast<int64_t>(rng.uniform() * 2 * 365 * 86400.0);
    }
    return users;
}

std::vector<std::vector<double>> genreCentres(const SampleConfig& c, Random& rng)
{
    std::vector<std::vector<double>> centres(kGenres, std::vector<double>(static_cast<size_t>(c.factors)));
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.factors));
    for (auto& v : centres)
        for (auto& x : v)
            x = rng.normal() * scale * 1.6;
    return centres;
}

} // namespace

const std::vector<std::string>& sampleGenreNames()
{
    static const std::vector<std::string> names = {"Drama",   "Comedy",  "Action",  "Romance",
                                                   "Thriller", "Sci-Fi", "Horror",  "Animation",
                                                   "Documentary", "Fantasy", "Mystery", "Western"};
    return names;
}

std::vector<PlantedInterest> plantedInterests(const SampleConfig& config)
{
    Random rng(config.seed);
    const auto centres = genreCentres(config, rng);
    const auto users = planUsers(config, rng, centres);
    std::vector<PlantedInterest> out;
    out.reserve(users.size());
    for (const auto& u : users)
        out.push_back({u.startGenres, u.endGenres});
    return out;
}

Dataset generateSampleDataset(const SampleConfig& c)
{
    Random rng(c.seed);
    const auto centres = genreCentres(c, rng);
    const auto users = planUsers(c, rng, centres);

    Dataset ds;
    ds.name = "sample";
    ds.source = "generated (seed " + std::to_string(c.seed) + ")";
    ds.genreNames = sampleGenreNames();

    // Items: genre(s), latent vector near the primary genre's centre, popularity bias, title.
    const size_t nItems = static_cast<size_t>(c.items);
    const size_t nf = static_cast<size_t>(c.factors);
    std::vector<std::vector<double>> latent(nItems, std::vector<double>(nf));
    std::vector<double> popularity(nItems);
    std::vector<uint32_t> genreMask(nItems);
    std::unordered_set<std::string> titles;
    for (size_t i = 0; i < nItems; ++i) {
        const int32_t g = drawWeighted(rng, kGenreShare, kGenres);
        uint32_t mask = 1u << g;
        if (rng.uniform() < 0.3)
            mask |= 1u << rng.below(kGenres);
        for (size_t f = 0; f < nf; ++f)
            latent[i][f] = centres[static_cast<size_t>(g)][f] + 0.45 * rng.normal();
        popularity[i] = rng.normal() * 0.9;
        const int32_t year = 1950 + static_cast<int32_t>(rng.below(71));
        // Two draws as before the genre words were planted, so the interactions did not change:
        // the noun is the primary genre's own word 80% of the time, else a word of no genre.
        const auto adjective = rng.below(20), noun = rng.below(20);
        const char* word = noun < 16 ? kGenreWords[g][noun / 2] : kNouns[(noun - 16) * 5 + adjective % 5];
        std::string base = std::string("The ") + kAdjectives[adjective] + " " + word;
        std::string title = base;
        for (int n = 2; titles.count(title); ++n)
            title = base + " " + std::to_string(n);
        titles.insert(title);
        ds.itemIds.push_back(std::to_string(i + 1));
        ds.items.title.push_back(title + " (" + std::to_string(year) + ")");
        ds.items.year.push_back(year);
        genreMask[i] = mask;
        std::vector<int32_t> genres;
        for (int32_t g = 0; g < kGenres; ++g)
            if (mask & (1u << g))
                genres.push_back(g);
        ds.items.appendGenres(genres);
    }

    static const char* const kOccupations[] = {"student", "engineer", "teacher", "artist", "doctor",
                                               "writer", "retired", "other"};
    // Postal codes from a stream of their own, so the draws above and below stay as they were.
    Random zipDraws(c.seed ^ 0x5a1bu);
    for (size_t u = 0; u < users.size(); ++u) {
        ds.userIds.push_back(std::to_string(u + 1));
        ds.users.zip.push_back(std::to_string(10000 + zipDraws.below(90000)));
        ds.users.age.push_back(16 + static_cast<int32_t>(rng.below(55)));
        ds.users.gender.push_back(rng.uniform() < 0.5 ? 'F' : 'M');
        ds.users.occupation.push_back(kOccupations[rng.below(8)]);
    }

    // Interactions, user by user, each drawn from a softmax over the items not yet seen.
    std::vector<double> weight(nItems);
    std::vector<char> seen(nItems);
    std::vector<double> interest(kGenres);
    for (size_t u = 0; u < users.size(); ++u) {
        const PlannedUser& pu = users[u];
        std::fill(seen.begin(), seen.end(), 0);
        int64_t time = pu.firstTime;
        std::vector<size_t> picks;
        for (int32_t k = 0; k < pu.count; ++k) {
            const double progress = pu.count > 1 ? static_cast<double>(k) / (pu.count - 1) : 0.0;
            std::fill(interest.begin(), interest.end(), 0.05);
            interest[static_cast<size_t>(pu.startGenres[0])] += 1.0;
            interest[static_cast<size_t>(pu.startGenres[1])] += 1.0 - progress;
            interest[static_cast<size_t>(pu.endGenres[1])] += progress;
            double total = 0;
            for (size_t i = 0; i < nItems; ++i) {
                if (seen[i]) {
                    weight[i] = 0;
                    continue;
                }
                double dot = 0;
                for (size_t f = 0; f < nf; ++f)
                    dot += pu.taste[f] * latent[i][f];
                double genre = 0;
                for (int32_t g = 0; g < kGenres; ++g)
                    if (genreMask[i] & (1u << g))
                        genre = std::max(genre, interest[static_cast<size_t>(g)]);
                weight[i] = std::exp(c.tasteWeight * dot + c.genreWeight * std::log(genre) +
                                     c.popularityWeight * popularity[i]);
                total += weight[i];
            }
            double x = rng.uniform() * total;
            size_t pick = 0;
            for (size_t i = 0; i < nItems; ++i) {
                if (seen[i])
                    continue;
                pick = i;
                x -= weight[i];
                if (x < 0)
                    break;
            }
            seen[pick] = 1;
            double dot = 0;
            for (size_t f = 0; f < nf; ++f)
                dot += pu.taste[f] * latent[pick][f];
            // The rating rises with the share of the user's recent picks that share a genre
            // with this one: liking depends on the candidate and the behaviours together.
            int recentSame = 0;
            const size_t recent = std::min(picks.size(), kRecentPicks);
            for (size_t r = picks.size() - recent; r < picks.size(); ++r)
                recentSame += (genreMask[picks[r]] & genreMask[pick]) != 0 ? 1 : 0;
            const double recentShare = recent > 0 ? static_cast<double>(recentSame) / static_cast<double>(recent) : 0.5;
            const double genreBonus = c.recentGenreWeight * (recentShare - 0.5) + 0.4;
            picks.push_back(pick);
            const double raw = 3.2 + 1.1 * dot + genreBonus + 0.6 * rng.normal();
            const float rating = static_cast<float>(std::clamp(std::round(raw), 1.0, 5.0));
            time += 3600 + static_cast<int64_t>(rng.exponential(2.0 * 86400.0));
            ds.interactions.append(static_cast<int32_t>(u), static_cast<int32_t>(pick), rating, time);
        }
    }
    return ds;
}

} // namespace reclab
