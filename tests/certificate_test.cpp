// The certificate writer: the overload that takes the dataset's digest from its caller and computes
// the model's on another thread writes the same bytes as the plain one, and claim_model taking the
// weights' blocks gives the model claim_model copying them gives.
#include "dataset_families.hpp"
#include "interpcert/certificate.hpp"
#include "interpcert/construct.hpp"

#include <doctest/doctest.h>

#include "interpcert/atomic_file.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace interpcert;

TEST_CASE("certificate: the text with caller-given digests equals the plain text, for every claim kind") {
  const std::uint64_t seed = 2113;
  std::mt19937_64 rng(seed);
  INFO("seed " << seed);
  for (testing::Family f : testing::kAllFamilies) {
    INFO(testing::family_name(f));
    Dataset ds = testing::make_family(f, rng, 2 + rng() % 3, 4, 5);
    const PreconditionReport pre = check_preconditions(ds);
    if (pre.verdict() != Applicability::Applies) continue;
    const Model weights = construct_model(ds).model;
    const std::vector<InterpolationClaim> claims = {
        ExactHardmax{}, SoftmaxBounded{Rational(6), Rational(1, 2), 64}, SoftmaxExact{Rational(7), 128},
        FloatBounded{"binary64", Rational(1, 1000), std::nullopt, std::nullopt},
        FloatBounded{"binary32", Rational(1, 10), Rational(5), 2}};
    for (const InterpolationClaim& claim : claims) {
      const Model copied = claim_model(claim, weights);
      Model taken_from = weights;
      const Model taken = claim_model(claim, std::move(taken_from));
      REQUIRE(model_to_json_text(taken) == model_to_json_text(copied));
      CHECK(model_digest(taken) == model_digest(copied));

      const ModelStats st = model_stats(copied);
      const BlockBounds bounds = std::visit([](const auto& c) { return c.block_bounds(); }, claim);
      const std::string plain = certificate_text(ds, copied, st, pre, claim, bounds);
      CertificateDigests digests{dataset_digest(ds), {}};
      CHECK(certificate_text(ds, copied, st, pre, claim, bounds, digests) == plain);
      CHECK(digests.model == model_digest(copied));
      CHECK(plain.find(digests.dataset) != std::string::npos);
      CHECK(plain.find(digests.model) != std::string::npos);
      // The digest filled in after the model was written sits where the text names it, and the
      // content that follows reads back as the model.
      const std::string digest_key = "\"model\": {\"digest\": \"";
      const std::size_t at = plain.find(digest_key);
      REQUIRE(at != std::string::npos);
      CHECK(plain.substr(at + digest_key.size(), 64) == model_digest(copied));
      JsonDocument doc = json_parse(plain, "certificate");
      const Model read_back = model_from_json(JsonNode::root_of(doc).at("model").at("content"));
      CHECK(model_digest(read_back) == model_digest(copied));
      // Written to a staged file (certify's path), the same bytes.
      const std::string file =
          (std::filesystem::temp_directory_path() / ("certificate_test." + std::to_string(getpid()))).string();
      CertificateDigests again{dataset_digest(ds), {}};
      write_file_atomically(file, [&](TextOutput& out) { write_certificate(out, ds, copied, st, pre, claim, bounds, again); });
      std::ifstream in(file, std::ios::binary);
      std::ostringstream streamed;
      streamed << in.rdbuf();
      std::filesystem::remove(file);
      CHECK(streamed.str() == plain);
      CHECK(again.model == digests.model);
      // A model the claim is not about (other attention, or other beta) is refused by both.
      Model other = copied;
      other.attention = copied.attention == AttentionKind::Hardmax ? AttentionKind::Softmax : AttentionKind::Hardmax;
      other.beta = copied.beta ? std::nullopt : std::optional<Rational>(Rational(3));
      CHECK_THROWS_AS(certificate_text(ds, other, st, pre, claim, bounds), std::invalid_argument);
      CHECK_THROWS_AS(certificate_text(ds, other, st, pre, claim, bounds, digests), std::invalid_argument);
    }
  }
}
