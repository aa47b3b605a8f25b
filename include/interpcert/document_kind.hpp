// Which kind of interpcert document a JSON file is, read from its "format" member first, so a
// model given where a dataset is expected says so instead of failing on its first unknown field.
#pragma once

#include "interpcert/json_reader.hpp"

#include <string_view>

namespace interpcert {

/// Requires root's "format" to be `expected` (e.g. "interpcert-dataset"). Throws InputError:
/// "FILE: this is a model, not a dataset" for another interpcert kind (model, dataset,
/// certificate, shard verdict), otherwise naming /format and the expected value.
void require_format(const JsonNode& root, std::string_view expected);

}  // namespace interpcert
