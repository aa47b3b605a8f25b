#include "interpcert/preconditions.hpp"

#include "ids_hash.hpp"
#include "interpcert/text_util.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

namespace interpcert {
namespace {



// Gives every distinct token an id, in order of first appearance (deterministic).
//
// Without one hash map over every token (at 10^7 tokens a node per token and a cache miss per
// lookup: superlinear in practice): the tokens' hashes are partitioned by their top bits into
// cache-sized parts (two sequential passes), each part sorted by hash, and only tokens of equal
// hash compared. The ids are then given in one pass in file order. The same ids as a hash map
// (tests/preconditions_test.cpp compares them with one).
struct TokenIds {
  std::vector<std::vector<std::size_t>> seq;  // seq[j][i]: id of token i of sequence j
  explicit TokenIds(const Dataset& ds) {
    const std::size_t S = ds.sequences.size();
    std::vector<std::size_t> start(S + 1, 0);  // global index of token 0 of sequence j
    for (std::size_t j = 0; j < S; ++j) start[j + 1] = start[j] + ds.sequences[j].input.size();
    const std::size_t T = start[S];
    auto at = [&](std::size_t t) {  // global index -> (sequence, position)
      const std::size_t j = static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), t) - start.begin()) - 1;
      return std::pair<const Tokens*, std::size_t>(&ds.sequences[j].input, t - start[j]);
    };
    // Parts of about 2^11 tokens (a power of two, by the top bits of a well-mixed hash).
    unsigned part_bits = 0;
    while (part_bits < 40 && (T >> (part_bits + 11)) != 0) ++part_bits;
    auto mixed = [](std::uint64_t h) {  // murmur3's finalizer: every bit depends on every bit
      h ^= h >> 33;
      h *= 0xff51afd7ed558ccdULL;
      h ^= h >> 33;
      h *= 0xc4ceb93fe53e4b1aULL;
      return h ^ (h >> 33);
    };
    std::vector<std::uint64_t> hash(T);
    std::vector<std::size_t> count((std::size_t{1} << part_bits) + 1, 0);
    for (std::size_t j = 0, t = 0; j < S; ++j) {
      const Tokens& in = ds.sequences[j].input;
      for (std::size_t i = 0; i < in.size(); ++i, ++t) {
        hash[t] = mixed(in.token_hash(i));
        ++count[part_bits ? (hash[t] >> (64 - part_bits)) + 1 : 1];
      }
    }
    for (std::size_t p = 1; p < count.size(); ++p) count[p] += count[p - 1];  // count[p]: where part p starts
    std::vector<std::pair<std::uint64_t, std::size_t>> items(T);  // (hash, t), by part, t ascending within
    {
      std::vector<std::size_t> fill(count.begin(), count.end() - 1);
      for (std::size_t t = 0; t < T; ++t) items[fill[part_bits ? hash[t] >> (64 - part_bits) : 0]++] = {hash[t], t};
    }
    hash = std::vector<std::uint64_t>();
    // id[t]: first the first appearance of t's value (t itself for a first appearance), then the id.
    std::vector<std::size_t> id(T);
    for (std::size_t t = 0; t < T; ++t) id[t] = t;
    std::vector<std::size_t> firsts;  // the first appearances among one run of equal hashes
    for (std::size_t p = 0; p + 1 < count.size(); ++p) {
      auto lo = items.begin() + static_cast<std::ptrdiff_t>(count[p]);
      auto hi = items.begin() + static_cast<std::ptrdiff_t>(count[p + 1]);
      std::sort(lo, hi);  // by hash, then t
      for (auto run = lo; run != hi;) {
        auto end = run + 1;
        while (end != hi && end->first == run->first) ++end;
        if (end - run > 1) {
          firsts.clear();
          for (auto it = run; it != end; ++it) {
            const auto [tokens, i] = at(it->second);
            bool found = false;
            for (std::size_t f : firsts) {
              const auto [ftokens, fi] = at(f);
              if (tokens->token_equal(i, *ftokens, fi)) {
                id[it->second] = f;
                found = true;
                break;
              }
            }
            if (!found) firsts.push_back(it->second);
          }
        }
        run = end;
      }
    }
    items = std::vector<std::pair<std::uint64_t, std::size_t>>();
    std::size_t next = 0;
    for (std::size_t t = 0; t < T; ++t) id[t] = id[t] == t ? next++ : id[id[t]];  // id[t] < t is done
    seq.resize(S);
    for (std::size_t j = 0; j < S; ++j)
      seq[j].assign(id.begin() + static_cast<std::ptrdiff_t>(start[j]), id.begin() + static_cast<std::ptrdiff_t>(start[j + 1]));
  }
};

// The empirical distribution of a sequence as a key: sorted (id, count / gcd of counts).
// Two sequences have the same distribution iff their keys are equal.
std::vector<std::size_t> distribution_key(const std::vector<std::size_t>& ids) {
  std::vector<std::size_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> key;  // (id, count) pairs
  for (std::size_t i = 0; i < sorted.size();) {
    std::size_t j = i;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    key.push_back(sorted[i]);
    key.push_back(j - i);
    i = j;
  }
  std::size_t g = 0;
  for (std::size_t i = 1; i < key.size(); i += 2) g = std::gcd(g, key[i]);
  for (std::size_t i = 1; i < key.size(); i += 2) key[i] /= g;
  return key;
}

// The set of tokens of a sequence as a key.
std::vector<std::size_t> set_key(const std::vector<std::size_t>& ids) {
  std::vector<std::size_t> key = ids;
  std::sort(key.begin(), key.end());
  key.erase(std::unique(key.begin(), key.end()), key.end());
  return key;
}

struct Requirement {
  std::size_t sequence, position, target_index;
};

// Requirements (output positions) on the same token, among sequences grouped by `key_of`, with
// different targets. Mode kSameSequence looks inside each sequence (O1), kCrossSequence only at
// pairs from two different sequences (O2), kAny at both (H4). Returns how many (group, token)
// pairs conflict; `first` gets a witness pair for the first of them.
enum class PairMode { kSameSequence, kCrossSequence, kAny };

template <class KeyOf>
std::size_t find_target_conflicts(const Dataset& ds, const TokenIds& ids, KeyOf key_of, PairMode mode,
                                  Witness& first) {
  std::unordered_map<std::vector<std::size_t>, std::size_t, IdsHash> group_of;
  std::map<std::pair<std::size_t, std::size_t>, std::vector<Requirement>> by_group_token;  // ordered: deterministic
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    std::size_t g = mode == PairMode::kSameSequence ? j : group_of.try_emplace(key_of(ids.seq[j]), group_of.size()).first->second;
    const Sequence& s = ds.sequences[j];
    for (std::size_t k = 0; k < s.output.size(); ++k)
      by_group_token[{g, ids.seq[j][s.positions[k]]}].push_back({j, s.positions[k], k});
  }
  auto target = [&](const Requirement& r) -> const Vec& { return ds.sequences[r.sequence].output[r.target_index]; };
  std::size_t conflicts = 0;
  std::pair<const Requirement*, const Requirement*> best{nullptr, nullptr};
  std::size_t best_seq = SIZE_MAX;
  for (const auto& [key, reqs] : by_group_token) {
    const Requirement& r0 = reqs[0];
    const Requirement* other = nullptr;  // a requirement whose target differs from r0's
    for (const auto& r : reqs)
      if (target(r) != target(r0)) {
        other = &r;
        break;
      }
    if (!other) continue;
    std::pair<const Requirement*, const Requirement*> pair{&r0, other};
    if (mode == PairMode::kCrossSequence && other->sequence == r0.sequence) {
      // r0 and `other` share a sequence; a requirement from another sequence differs from one of them.
      const Requirement* third = nullptr;
      for (const auto& r : reqs)
        if (r.sequence != r0.sequence) {
          third = &r;
          break;
        }
      if (!third) continue;
      pair = target(*third) != target(r0) ? std::make_pair(&r0, third) : std::make_pair(other, third);
    }
    ++conflicts;
    // Report the conflict that appears first in file order.
    std::size_t at = std::max(pair.first->sequence, pair.second->sequence);
    if (at < best_seq) {
      best_seq = at;
      best = pair;
    }
  }
  if (best.first) {
    if (best.first->sequence > best.second->sequence ||
        (best.first->sequence == best.second->sequence && best.first->position > best.second->position))
      std::swap(best.first, best.second);
    first.sequences = {best.first->sequence, best.second->sequence};
    first.positions = {best.first->position, best.second->position};
    first.token = ds.sequences[best.first->sequence].input[best.first->position];
    first.targets = {target(*best.first), target(*best.second)};
  }
  return conflicts;
}

// The context of position `upto` of sequence j as (token, proportion) in first-appearance order:
// the whole sequence, or causal the prefix 0 ... upto.
std::vector<std::pair<Vec, Rational>> proportions(const Dataset& ds, const TokenIds& ids, std::size_t j,
                                                  std::size_t upto, bool causal) {
  const std::size_t len = causal ? upto + 1 : ids.seq[j].size();
  std::vector<std::size_t> order, count;
  std::unordered_map<std::size_t, std::size_t> slot;
  for (std::size_t i = 0; i < len; ++i) {
    auto [it, fresh] = slot.try_emplace(ids.seq[j][i], order.size());
    if (fresh) order.push_back(i), count.push_back(0);
    ++count[it->second];
  }
  std::vector<std::pair<Vec, Rational>> out;
  for (std::size_t k = 0; k < order.size(); ++k)
    out.push_back({ds.sequences[j].input[order[k]], Rational(static_cast<long>(count[k]), static_cast<long>(len))});
  return out;
}

std::string proportions_text(const std::vector<std::pair<Vec, Rational>>& p) {
  std::string t = "{";
  for (std::size_t k = 0; k < p.size(); ++k) t += (k ? ", " : "") + vec_text(p[k].first) + ": " + rational_to_string(p[k].second);
  return t + "}";
}

bool has_repeats(const std::vector<std::pair<Vec, Rational>>& p) {
  for (const auto& [x, q] : p)
    if (q != Rational(1, static_cast<long>(p.size()))) return true;
  return false;
}

// The causal obstruction C1: output positions grouped by their reduced prefix (a constant prefix
// a ... a counts as (a)), via a trie over token ids: a position's key is its exact prefix's node,
// except that a constant prefix takes the node of its first token.
ObstructionCheck causal_obstruction(const Dataset& ds, const TokenIds& ids) {
  ObstructionCheck c1{"C1",
                      "two output positions with the same reduced prefix (z_0 ... z_i, a constant prefix a ... a "
                      "counting as a) have different targets",
                      false, {}, {}};
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> child;  // (node, token) -> node; root = 0
  std::size_t nodes = 1;
  struct Req {
    std::size_t seq, pos, k;
  };
  std::unordered_map<std::size_t, Req> first_at;  // node -> first requirement seen there
  std::size_t conflicts = 0;
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const Sequence& s = ds.sequences[j];
    std::vector<std::size_t> node_at(ids.seq[j].size());
    std::size_t node = 0, first_token = ids.seq[j][0];
    bool constant = true;
    for (std::size_t i = 0; i < ids.seq[j].size(); ++i) {
      std::size_t tok = ids.seq[j][i];
      constant = constant && tok == first_token;
      auto [it, fresh] = child.try_emplace({node, tok}, nodes);
      if (fresh) ++nodes;
      node = it->second;
      node_at[i] = constant ? child.at({0, first_token}) : node;
    }
    for (std::size_t k = 0; k < s.output.size(); ++k) {
      auto [it, fresh] = first_at.try_emplace(node_at[s.positions[k]], Req{j, s.positions[k], k});
      if (fresh) continue;
      const Req& r = it->second;
      if (ds.sequences[r.seq].output[r.k] == s.output[k]) continue;
      if (conflicts++ > 0) continue;
      Witness& w = c1.witness;
      w.sequences = {r.seq, j};
      w.positions = {r.pos, s.positions[k]};
      w.token = s.input[s.positions[k]];
      w.targets = {ds.sequences[r.seq].output[r.k], s.output[k]};
      w.contexts = {proportions(ds, ids, r.seq, r.pos, true), proportions(ds, ids, j, s.positions[k], true)};
      std::string prefix;
      for (std::size_t i = 0; i <= r.pos && i < 12; ++i) prefix += (i ? " " : "") + vec_text(ds.sequences[r.seq].input[i]);
      if (r.pos >= 12) prefix += " ... (" + std::to_string(r.pos + 1) + " tokens)";
      w.text = "position " + std::to_string(r.pos) + " of sequence " + std::to_string(r.seq) + " and position " +
               std::to_string(s.positions[k]) + " of sequence " + std::to_string(j) +
               " have the same reduced prefix (the first: " + prefix + "); the token " + vec_text(w.token) +
               " has targets " + vec_text(w.targets[0]) + " and " + vec_text(w.targets[1]);
    }
  }
  c1.found = conflicts > 0;
  if (c1.found)
    c1.proof =
        "With a causal mask the output at position i is computed from z_0 ... z_i only, so equal prefixes end "
        "at equal points; and in a constant prefix a ... a every position holds the same value after every "
        "layer (attention over equal values returns that value, whatever the weights), so it computes what (a) "
        "computes. Hence both positions end at the same point, which cannot equal two different targets "
        "(hardmax or softmax, any depth and width; proofs/repeated-and-causal.md, Lemma 3).";
  return c1;
}

}  // namespace

Applicability PreconditionReport::verdict() const {
  for (const auto& o : obstructions)
    if (o.found) return Applicability::Impossible;
  if (causal) return Applicability::Extended;
  for (const auto& h : hypotheses)
    if (!h.holds) return Applicability::Extended;
  return Applicability::Applies;
}

std::string precondition_report_text(const PreconditionReport& rep) {
  std::string t;
  for (const auto& h : rep.hypotheses) {
    t += "  " + h.id + (h.holds ? " holds:  " : " FAILS:  ") + h.statement + "\n";
    if (h.holds) continue;
    t += "      witness: " + h.witness.text + "\n";
    if (h.violations > 1) t += "      (" + std::to_string(h.violations) + " violations in all; the first is shown)\n";
  }
  for (const auto& o : rep.obstructions) {
    t += "  " + o.id + (o.found ? " FOUND:  " : " absent: ") + o.statement + "\n";
    if (o.found) t += "      witness: " + o.witness.text + "\n      proof: " + o.proof + "\n";
  }
  return t;
}

std::string theorem_statement() {
  return "For N input sequences in R^d (d >= 2) with pairwise distinct tokens and output lengths "
         "1 <= m_j <= n_j, and consistent targets, there is a transformer (hardmax attention; and, with "
         "softmax, a family converging to it) of depth and size depending on sum(m_j) and N but not on "
         "the input lengths that maps every sequence to its targets exactly "
         "(Alcalde, Fantuzzi & Zuazua, arXiv:2502.02270).";
}

PreconditionReport check_preconditions(const Dataset& ds, bool causal) {
  PreconditionReport rep;
  TokenIds ids(ds);
  rep.causal = causal;
  if (causal) {
    rep.obstructions.push_back(causal_obstruction(ds, ids));
    rep.token_ids = std::make_shared<const std::vector<std::vector<std::size_t>>>(std::move(ids.seq));
    return rep;
  }

  HypothesisCheck h1{"H1", "the token dimension d is at least 2", ds.d >= 2, ds.d >= 2 ? 0u : 1u, {}};
  if (!h1.holds)
    h1.witness.text = "d = " + std::to_string(ds.d) +
                      ": the construction needs a direction w != 0 orthogonal to the key direction k, "
                      "which does not exist in dimension 1";
  rep.hypotheses.push_back(h1);

  // H2 is enforced by the dataset format itself (1 <= m_j <= n_j is validated on reading).
  rep.hypotheses.push_back({"H2", "every sequence has 1 <= m_j <= n_j output tokens", true, 0, {}});

  HypothesisCheck h3{"H3", "the tokens of each sequence are pairwise distinct", true, 0, {}};
  std::vector<std::size_t> sorted;
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    // Distinct ids (the common case) need no map: a sorted copy shows it. A repeat is then
    // located, with its witness, by the map below.
    sorted.assign(ids.seq[j].begin(), ids.seq[j].end());
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end()) continue;
    std::unordered_map<std::size_t, std::size_t> first_pos;
    for (std::size_t i = 0; i < ids.seq[j].size(); ++i) {
      auto [it, fresh] = first_pos.try_emplace(ids.seq[j][i], i);
      if (fresh) continue;
      if (h3.violations++ == 0) {
        h3.witness.sequences = {j, j};
        h3.witness.positions = {it->second, i};
        h3.witness.token = ds.sequences[j].input[i];
        h3.witness.text = "sequence " + std::to_string(j) + " holds the token " + vec_text(h3.witness.token) +
                          " at positions " + std::to_string(it->second) + " and " + std::to_string(i);
      }
    }
  }
  h3.holds = h3.violations == 0;
  rep.hypotheses.push_back(h3);

  HypothesisCheck h4{"H4", "sequences with the same set of tokens give the same token the same target", true, 0, {}};
  h4.violations = find_target_conflicts(ds, ids, set_key, PairMode::kAny, h4.witness);
  h4.holds = h4.violations == 0;
  if (!h4.holds) {
    const Witness& w = h4.witness;
    h4.witness.text = "sequences " + std::to_string(w.sequences[0]) + " and " + std::to_string(w.sequences[1]) +
                      " have the same set of tokens; the token " + vec_text(w.token) + " (at position " +
                      std::to_string(w.positions[0]) + " of the first, " + std::to_string(w.positions[1]) +
                      " of the second) has targets " + vec_text(w.targets[0]) + " and " + vec_text(w.targets[1]);
  }
  rep.hypotheses.push_back(h4);

  ObstructionCheck o1{"O1", "one sequence holds the same token at two output positions with different targets",
                      false, {}, {}};
  o1.found = find_target_conflicts(ds, ids, set_key, PairMode::kSameSequence, o1.witness) > 0;
  if (o1.found) {
    o1.witness.contexts.assign(2, proportions(ds, ids, o1.witness.sequences[0], 0, false));
    const Witness& w = o1.witness;
    o1.witness.text = "sequence " + std::to_string(w.sequences[0]) + " holds " + vec_text(w.token) +
                      " at output positions " + std::to_string(w.positions[0]) + " and " +
                      std::to_string(w.positions[1]) + " with targets " + vec_text(w.targets[0]) + " and " +
                      vec_text(w.targets[1]);
    o1.proof =
        "Every layer maps a token by a function of the token itself and of its sequence (attention: "
        "out_i = rho z_i + sum_l a_il V z_l, where a_il depends on z_i and the z_l only; feed-forward: "
        "token-wise). By induction over the layers, two equal tokens of one sequence stay equal after "
        "every layer, so positions " + std::to_string(w.positions[0]) + " and " + std::to_string(w.positions[1]) +
        " end at the same point, which cannot equal two different targets. This holds for hardmax and "
        "softmax attention, any depth and any width.";
  }
  rep.obstructions.push_back(o1);

  ObstructionCheck o2{"O2",
                      "two sequences with the same empirical distribution of tokens put the same token at output "
                      "positions with different targets",
                      false, {}, {}};
  Witness w2;
  if (find_target_conflicts(ds, ids, distribution_key, PairMode::kCrossSequence, w2) > 0) {
    o2.found = true;
    w2.contexts = {proportions(ds, ids, w2.sequences[0], 0, false), proportions(ds, ids, w2.sequences[1], 0, false)};
    o2.witness = w2;
    o2.witness.text = "sequences " + std::to_string(w2.sequences[0]) + " and " + std::to_string(w2.sequences[1]) +
                      " have the same empirical distribution of tokens; the token " + vec_text(w2.token) +
                      " (at position " + std::to_string(w2.positions[0]) + " of the first, " +
                      std::to_string(w2.positions[1]) + " of the second) has targets " + vec_text(w2.targets[0]) +
                      " and " + vec_text(w2.targets[1]);
    // With repeated tokens the proportions are the point (with distinct tokens: the same set).
    if (has_repeats(w2.contexts[0]) || has_repeats(w2.contexts[1]))
      o2.witness.text += "; proportions " + proportions_text(w2.contexts[0]) + " and " + proportions_text(w2.contexts[1]);
    o2.proof =
        "Attention sees a sequence only through its empirical distribution: out_i = rho z_i + "
        "sum_l a_il V z_l with weights a_il that depend on z_i and z_l, normalized over the sequence, so "
        "repeating or permuting tokens in the same proportions changes nothing (hardmax averages over the "
        "maximizing tokens with their multiplicities; softmax likewise). By induction over the layers, a token "
        "with the same value in two sequences of the same distribution stays equal in both, and the two "
        "sequences keep equal distributions. So the token " + vec_text(w2.token) +
        " ends at the same point in both sequences, which cannot equal two different targets.";
  }
  rep.obstructions.push_back(o2);
  rep.token_ids = std::make_shared<const std::vector<std::vector<std::size_t>>>(std::move(ids.seq));
  return rep;
}

}  // namespace interpcert
