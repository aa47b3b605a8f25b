// libFuzzer harness: the checker on arbitrary certificates (proofs/certificate-v1.md), against a
// fixed small dataset. Any input must give findings (VERIFIED or REFUTED) or an InputError
// (exit status 2 in interpcert-check); never a crash, an abort or another exception.
#include "../../src/checker/claims.hpp"
#include "interpcert/errors.hpp"

#include <cstdint>
#include <string_view>

using namespace interpcert;

namespace {
const char* kDataset = R"({"format": "interpcert-dataset", "version": 1, "d": 2, "sequences": [
  {"input": [["0", "1"], ["1/2", "3"], ["2", "-1"]], "output": [["5", "5"]]},
  {"input": [["0", "1"], ["7", "7"]], "output": [["1", "0"], ["0", "1"]], "positions": [1, 0]}]})";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Dataset ds = dataset_from_json(JsonNode::root_of(json_parse(kDataset, "dataset.json")));
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    JsonDocument doc = json_parse(text, "fuzz.cert.json");
    checker::check_certificate(doc, ds, 1);
  } catch (const InputError&) {
  }
  return 0;
}
