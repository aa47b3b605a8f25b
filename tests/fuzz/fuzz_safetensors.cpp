// libFuzzer harness: the safetensors reader and the model import (proofs/torch-format.md). Any
// input must either read, or be refused with an InputError; a model that imports must survive
// export (binary64, exact for imported weights) and import again with the same JSON text.
#include "interpcert/errors.hpp"
#include "interpcert/safetensors.hpp"
#include "interpcert/torch_state.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace interpcert;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  safetensors_fuzz_one(data, size);  // the container alone
  try {
    SafeTensorsFile f = safetensors_parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    TorchImportOptions opt;  // the flag `import --hardmax` when the file does not say
    if (!f.metadata.count("attention") && !f.metadata.count("beta")) opt.attention = AttentionKind::Hardmax;
    TorchImportReport rep;
    Model m = model_from_safetensors(f, opt, rep);
    TorchExportReport out;
    std::string bytes = model_to_safetensors(m, {}, out, "imported");
    if (out.rounded != 0) std::abort();  // every imported weight is a float: binary64 holds it exactly
    Model again = model_from_safetensors(safetensors_parse(bytes, "re-exported"), {}, rep);
    if (model_to_json_text(again) != model_to_json_text(m)) std::abort();
  } catch (const InputError&) {
  }
  return 0;
}
