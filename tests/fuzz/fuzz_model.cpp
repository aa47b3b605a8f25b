// libFuzzer harness: the model reader (proofs/formats-v1.md, "Model"). Any input must either
// read, or be refused with an InputError; a model that reads must survive its own JSON writer
// with the same canonical text (and so the same digest).
#include "interpcert/errors.hpp"
#include "interpcert/model.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace interpcert;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    JsonDocument doc = json_parse(text, "fuzz.json");
    Model m = model_from_json(JsonNode::root_of(doc));
    std::string canonical = model_canonical_text(m);
    JsonDocument again = json_parse(model_to_json_text(m), "rewritten.json");
    if (model_canonical_text(model_from_json(JsonNode::root_of(again))) != canonical) std::abort();
  } catch (const InputError&) {
  }
  return 0;
}
