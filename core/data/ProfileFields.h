// Categorical side fields of users and items, as codes a graph can embed: the user's gender,
// age group, occupation and postal region, the item's release year and decade. Code 0 is
// "unknown"; the other codes follow the sorted labels, so the same data gives the same codes.
#pragma once

#include "data/Dataset.h"

#include <optional>
#include <string>
#include <vector>

namespace reclab {

enum class ProfileField { Gender, Age, Occupation, ZipRegion, Year, Decade };
constexpr int kProfileFieldCount = 6;
constexpr int kUserProfileFields = 4; // the first four describe users, the rest items

const char* profileFieldName(ProfileField f); // "gender", "age", "occupation", "zip_region", "year", "decade"
std::optional<ProfileField> profileFieldNamed(const std::string& name);
inline bool isUserField(ProfileField f) { return static_cast<int>(f) < kUserProfileFields; }
// What a missing field is called in messages: "the users' occupations".
std::string profileFieldNoun(ProfileField f);

struct FieldCodes {
    std::vector<int32_t> code;       // one per user (or item)
    std::vector<std::string> labels; // labels[c] names code c; labels[0] == "unknown"
};

// Age groups as MovieLens 1M writes them (under 18, 18–24, 25–34, 35–44, 45–49, 50–55, 56+);
// a postal region is the first digit of a numeric code ("other" for the rest).
FieldCodes profileCodes(const UserSideData& users, const ItemSideData& items, size_t numUsers, size_t numItems,
                        ProfileField field);
FieldCodes profileCodes(const Dataset& data, ProfileField field);

} // namespace reclab
