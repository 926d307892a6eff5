#include "data/ProfileFields.h"

#include <algorithm>
#include <map>

namespace reclab {

namespace {

constexpr const char* kNames[kProfileFieldCount] = {"gender", "age", "occupation", "zip_region", "year", "decade"};

std::string ageGroup(int32_t age)
{
    if (age <= 0)
        return {};
    static const std::pair<int32_t, const char*> kGroups[] = {{18, "under 18"}, {25, "18-24"}, {35, "25-34"},
                                                              {45, "35-44"},    {50, "45-49"}, {56, "50-55"}};
    for (const auto& [below, label] : kGroups)
        if (age < below)
            return label;
    return "56+";
}

std::string zipRegion(const std::string& zip)
{
    if (zip.empty())
        return {};
    const bool digits = std::all_of(zip.begin(), zip.begin() + std::min<size_t>(zip.size(), 5),
                                    [](char c) { return c >= '0' && c <= '9'; });
    return digits ? std::string(1, zip[0]) : "other";
}

// Labels of each entity ("" = unknown) into codes by sorted label; order gives the labels' order
// where it is not alphabetical (age groups, years).
FieldCodes encode(const std::vector<std::string>& label, const std::vector<std::string>& order = {})
{
    FieldCodes out;
    out.labels.push_back("unknown");
    std::map<std::string, int32_t> code;
    std::vector<std::string> distinct = order;
    if (distinct.empty()) {
        distinct = label;
        std::sort(distinct.begin(), distinct.end());
        distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    }
    for (const auto& l : distinct)
        if (!l.empty() && std::find(label.begin(), label.end(), l) != label.end()) {
            code[l] = static_cast<int32_t>(out.labels.size());
            out.labels.push_back(l);
        }
    out.code.reserve(label.size());
    for (const auto& l : label) {
        const auto it = code.find(l);
        out.code.push_back(it == code.end() ? 0 : it->second);
    }
    return out;
}

} // namespace

const char* profileFieldName(ProfileField f) { return kNames[static_cast<int>(f)]; }

std::optional<ProfileField> profileFieldNamed(const std::string& name)
{
    for (int k = 0; k < kProfileFieldCount; ++k)
        if (name == kNames[k])
            return static_cast<ProfileField>(k);
    return std::nullopt;
}

std::string profileFieldNoun(ProfileField f)
{
    static const char* const kNouns[kProfileFieldCount] = {"the users' genders", "the users' ages",
                                                           "the users' occupations", "the users' postal codes",
                                                           "the items' years", "the items' years"};
    return kNouns[static_cast<int>(f)];
}

FieldCodes profileCodes(const Dataset& data, ProfileField field)
{
    return profileCodes(data.users, data.items, static_cast<size_t>(data.numUsers()),
                        static_cast<size_t>(data.numItems()), field);
}

FieldCodes profileCodes(const UserSideData& users, const ItemSideData& items, size_t numUsers, size_t numItems,
                        ProfileField field)
{
    std::vector<std::string> label(isUserField(field) ? numUsers : numItems);
    std::vector<std::string> order;
    for (size_t k = 0; k < label.size(); ++k) {
        switch (field) {
        case ProfileField::Gender:
            if (k < users.gender.size() && users.gender[k] != '?')
                label[k] = std::string(1, users.gender[k]);
            break;
        case ProfileField::Age:
            if (k < users.age.size())
                label[k] = ageGroup(users.age[k]);
            break;
        case ProfileField::Occupation:
            if (k < users.occupation.size())
                label[k] = users.occupation[k];
            break;
        case ProfileField::ZipRegion:
            if (k < users.zip.size())
                label[k] = zipRegion(users.zip[k]);
            break;
        case ProfileField::Year:
        case ProfileField::Decade:
            if (k < items.year.size() && items.year[k] > 0) {
                const int32_t y = items.year[k];
                label[k] = field == ProfileField::Year ? std::to_string(y) : std::to_string(y / 10 * 10) + "s";
            }
            break;
        }
    }
    if (field == ProfileField::Age)
        order = {"under 18", "18-24", "25-34", "35-44", "45-49", "50-55", "56+"};
    return encode(label, order);
}

} // namespace reclab
