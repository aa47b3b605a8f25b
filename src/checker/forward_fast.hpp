// The checker's optional structured forward pass (interpcert-check --fast): the same outputs as
// forward_hardmax, computed with shortcuts that are short enough to audit, and tested equal to
// the plain pass on seeded random models (tests/checker_fast_test.cpp). It shares no code with
// the engine's evaluators.
#pragma once

#include "interpcert/model.hpp"
#include "interpcert/tokens.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace interpcert::checker {

struct Frac;  // frac128.hpp

/// Per-layer structure, computed once per model:
///  - one-head attention: s_il = (q.z_i)(k.z_l), so a token with q.z_i > 0 attends to the tokens of
///    largest k.z, < 0 to those of smallest, = 0 to all;
///  - feed-forward layers whose rows of U are multiples c_j u of one row u: W relu(U z + b) is a
///    piecewise linear function of t = u.z, tabulated between breakpoints as a slope and the value
///    at a breakpoint ending the piece (point-slope form: the numbers stay the size of the
///    function's values and slopes);
///  - only the asked positions are carried past the last attention layer (later layers act on
///    each token alone), and that layer computes only their outputs;
///  - the arithmetic is exact either way: machine integers (__int128 fractions, every operation
///    overflow-checked, frac128.hpp) first, and GMP rationals for a sequence whose numbers outgrow
///    them, or that reaches a tabulated piece whose numbers do (or for every sequence when a
///    number of the model, or a breakpoint, does).
class StructuredModel {
 public:
  /// m must outlive this object (the GMP path is built from it when first needed).
  explicit StructuredModel(const Model& m);
  ~StructuredModel();
  StructuredModel(const StructuredModel&) = delete;
  StructuredModel& operator=(const StructuredModel&) = delete;

  /// The output tokens at `positions` (each < x.size(); any order, repeats allowed), in that
  /// order: out[k] = forward_hardmax(m, x)[positions[k]]. Thread-safe.
  std::vector<Vec> forward(const Tokens& x, const std::vector<std::size_t>& positions) const;
  /// All output tokens: forward_hardmax(m, z).
  std::vector<Vec> forward(const std::vector<Vec>& z) const;

  /// The two arithmetics separately, for the differential tests. forward() is forward_machine(),
  /// or forward_gmp() when that is nullopt (a number needs more than 127 bits).
  std::optional<std::vector<Vec>> forward_machine(const Tokens& x, const std::vector<std::size_t>& positions) const;
  std::vector<Vec> forward_gmp(const Tokens& x, const std::vector<std::size_t>& positions) const;
  /// False when some number of the model (or a breakpoint of a tabulation) does not fit a Frac:
  /// then every sequence takes the GMP path.
  bool has_machine_path() const { return machine_ != nullptr; }
  /// The tabulated pieces of the machine net whose slope or value does not fit a Frac (a token
  /// reaching one takes the GMP path); 0 without a machine path. For the tests.
  std::size_t machine_pieces_missing() const;

  template <class T>
  struct Net;  // the model's layers with numbers of type T (forward_fast.cpp)

 private:
  const Model& m_;
  std::unique_ptr<Net<Frac>> machine_;
  mutable std::once_flag exact_once_;
  mutable std::unique_ptr<Net<Rational>> exact_;
};

}  // namespace interpcert::checker
