// The safetensors container (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON header {"name": {"dtype", "shape", "data_offsets": [begin,
// end]}, "__metadata__": {string: string}}, then the tensor bytes (little-endian, row-major);
// offsets are relative to the first byte after the header.
//
// The reader trusts nothing in the file: the header length is bounded, the header must be JSON
// of exactly that shape, every dtype known, every tensor's byte count must equal
// product(shape) * element size, and the byte ranges must tile the data exactly (sorted by
// offset: no gap, no overlap, nothing out of range or left over) - what the reference
// implementation requires. Every error is an InputError naming the file and the JSON path of
// the offending tensor ("/blocks.0.rho/data_offsets").
//
// It lives in the engine, not in src/formats: certificates embed JSON models, so the checker
// never reads safetensors and its trusted base does not grow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace interpcert {

/// The largest header accepted (the reference implementation's limit, 100 MB).
inline constexpr std::uint64_t kSafetensorsMaxHeader = 100'000'000;

/// One tensor of a safetensors file.
struct SafeTensor {
  std::string name;
  std::string dtype;                ///< "F64", "F32", "F16", "BF16", "I64", ...
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0, end = 0; ///< byte range in the data section
  std::uint64_t elements() const;
};

/// A parsed, validated safetensors file. Owns its bytes.
struct SafeTensorsFile {
  std::string file;                            ///< for error messages
  std::string bytes;                           ///< the whole file
  std::size_t data_start = 0;                  ///< 8 + header length
  std::map<std::string, std::string> metadata; ///< "__metadata__" (empty if absent)
  std::map<std::string, SafeTensor> tensors;   ///< by name
  /// The raw bytes of a tensor (little-endian elements).
  std::string_view data(const SafeTensor& t) const;
};

/// Bytes per element of a dtype name, 0 if the name is not a safetensors dtype.
std::size_t safetensors_dtype_size(std::string_view dtype);

/// Parses and validates `bytes`; throws InputError naming `file` and the JSON path.
SafeTensorsFile safetensors_parse(std::string bytes, const std::string& file);
/// Reads a file and parses it.
SafeTensorsFile safetensors_load(const std::string& file);

/// A tensor to write: its name, dtype, shape and little-endian bytes.
struct SafeTensorOut {
  std::string name, dtype;
  std::vector<std::uint64_t> shape;
  std::string bytes;
};

/// The file bytes: header keys "__metadata__" first, then the tensors in the given order, their
/// data laid out in that order; header padded with spaces to a multiple of 8 bytes.
/// Deterministic. Throws std::invalid_argument on a tensor whose byte count does not match.
std::string safetensors_write(const std::vector<SafeTensorOut>& tensors,
                              const std::map<std::string, std::string>& metadata);

/// libFuzzer-style entry point: parses (data, size) as a safetensors file; invalid input is
/// rejected with InputError and swallowed; anything else (a crash, another exception) is a bug.
int safetensors_fuzz_one(const std::uint8_t* data, std::size_t size);

}  // namespace interpcert
