// libFuzzer harness: the dataset reader (proofs/formats-v1.md, "Dataset"). Any input must either
// read, or be refused with an InputError; a dataset that reads must survive its own JSON writer
// with the same canonical text (and so the same digest).
#include "interpcert/dataset.hpp"
#include "interpcert/errors.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace interpcert;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    JsonDocument doc = json_parse(text, "fuzz.json");
    Dataset ds = dataset_from_json(JsonNode::root_of(doc));
    std::string canonical = dataset_canonical_text(ds);
    JsonDocument again = json_parse(dataset_to_json_text(ds), "rewritten.json");
    if (dataset_canonical_text(dataset_from_json(JsonNode::root_of(again))) != canonical) std::abort();
  } catch (const InputError&) {
  }
  return 0;
}
