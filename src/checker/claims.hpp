// The checker's sections, run in a fixed order; each re-derives its claim from the certificate's
// model and the dataset alone and says VERIFIED or REFUTED with the reason.
#pragma once

#include "interpcert/dataset.hpp"
#include "interpcert/json_reader.hpp"

#include <string>
#include <vector>

namespace interpcert::checker {

struct Finding {
  std::string claim;
  bool verified = false;
  std::string detail;
  /// interpolation: how many output tokens the forward pass actually compared (counted as the
  /// work is done, so a shard that skipped sequences cannot report them as checked).
  std::size_t outputs_checked = 0;
};

/// The certificate format versions this checker knows.
inline constexpr int kKnownMajorVersion = 1;

/// The interval precision (bits) a softmax claim may ask for (proofs/certificate-v1.md): the
/// cap keeps a certificate from making a small check take minutes (the cost grows faster than
/// the precision); the producer's own precision search stops at the same 2^15.
inline constexpr long kMinPrecision = 2;
inline constexpr long kMaxPrecision = 1 << 15;

/// Checks every claim of the certificate against the dataset. Throws InputError when the
/// certificate cannot be read (malformed, unknown major version): exit status 2.
/// `shard`/`shards` restrict the forward pass to sequences j with j % shards == shard.
/// `structured`: the hardmax forward pass uses forward_fast.hpp (tested equal to the plain one),
/// and the interpolation finding says so.
std::vector<Finding> check_certificate(const JsonDocument& cert, const Dataset& ds, unsigned threads,
                                       std::size_t shard = 0, std::size_t shards = 1, bool structured = false);

}  // namespace interpcert::checker
