#include "interpcert/explain.hpp"

#include "explain_trajectory.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"
#include "interpcert/softmax_apriori.hpp"
#include "interpcert/softmax_eval.hpp"
#include "interpcert/text_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

namespace interpcert {
namespace {

std::string q(const Rational& r) { return rational_to_string(r); }
std::string n(std::size_t v) { return std::to_string(v); }

// An upper bound rounded to 3 significant digits (round_up_3_digits), exactly, as m.mm e-x.
std::string d3(const Rational& r) {
  if (r <= 0) return q(r);
  Rational x = r;
  int e = 0;
  while (x >= 1000) x /= 10, ++e;
  while (x < 100) x *= 10, --e;
  if (denominator(x) != 1) return q(r);
  std::string m = q(x);  // three digits
  e += 2;
  if (e >= -3 && e <= 5) return q(r).find('/') == std::string::npos ? q(r) : [&] {
    // a short exact decimal
    std::string digits = m;
    while (digits.size() > 1 && digits.back() == '0' && e - static_cast<int>(digits.size()) + 1 < 0) digits.pop_back();
    int point = e + 1;  // digits before the decimal point
    if (point <= 0) return "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    while (static_cast<int>(digits.size()) < point) digits += '0';
    return digits.substr(0, static_cast<std::size_t>(point)) +
           (static_cast<int>(digits.size()) > point ? "." + digits.substr(static_cast<std::size_t>(point)) : "");
  }();
  std::string t = m.substr(0, 1) + "." + m.substr(1);
  while (t.back() == '0') t.pop_back();
  if (t.back() == '.') t.pop_back();
  return t + "e" + std::to_string(e);
}

std::string list_of(const std::vector<std::size_t>& v, std::size_t max = 12) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  if (v.size() > max) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

// The paper's plan (arXiv:2502.02270), in its own words, and where each step sits in it.
const char* kPlanSeparate = "separate overlapping sequences";
const char* kPlanLeaders = "select leaders";
const char* kPlanCluster = "collapse tokens by clustering";
const char* kPlanInterpolate = "interpolate onto the targets";

// ---- Step 0: the requirements ------------------------------------------------------------------

ExplainStep requirements_step(const Dataset& ds, const ExplainDrawing& dr, const ExplainOptions& opt) {
  ExplainStep s;
  s.id = "requirements";
  s.title = "What must happen (the requirements)";
  s.lemma = "The transformer interpolates the dataset if, run on each input sequence, it puts exactly the target at "
            "every output position. Read this table first: it is what the rest of the proof achieves.";
  std::ostringstream h;
  h << "  sequence  position  input token -> target\n";
  std::size_t limit = 2 * opt.max_listed;
  for (std::size_t r = 0; r < dr.rows.size() && r < limit; ++r)
    h << "  " << dr.rows[r].sequence << "  " << dr.rows[r].position << "  " << dr.rows[r].input << " -> "
      << dr.rows[r].target << "\n";
  if (dr.rows.size() > limit) h << "  ... (" << dr.rows.size() - limit << " more rows; --max-listed to see them)\n";
  h << "  (" << count_of(ds.total_outputs(), "output position") << " in " << count_of(ds.sequences.size(), "sequence")
    << "; positions are "
    << "0-based)\n";
  s.here = h.str();
  return s;
}

// ---- Step 1: preconditions ---------------------------------------------------------------------

ExplainStep preconditions_step(const PreconditionReport& rep) {
  ExplainStep s;
  s.id = "preconditions";
  s.title = "Preconditions";
  s.lemma = "The theorem needs H1-H4. Obstructions O1 and O2 make interpolation impossible for every transformer "
            "of this class (proofs/theorem.md, sections 2-3).";
  bool obstruction = false;
  for (const auto& o : rep.obstructions) obstruction = obstruction || o.found;
  bool h3 = rep.hypotheses.size() > 2 && rep.hypotheses[2].holds;
  std::ostringstream h;
  h << precondition_report_text(rep);
  for (const auto& x : rep.hypotheses) {
    if (x.holds) continue;
    h << "  Why " << x.id << " matters: ";
    if (x.id == "H1")
      h << "in dimension 1 there is no direction w orthogonal to the key k, so a context's code cannot be "
           "written into its tokens without changing their k-projections, and the leaders with them.\n";
    else if (x.id == "H3")
      h << "with a repeated token, attention averages over its copies, so outputs depend on the proportions of "
           "tokens, not only on their set; the construction's codes depend only on sets. Interpolation is "
           "impossible only when one of the obstructions below is found; otherwise proofs/repeated-and-causal.md "
           "(Theorem 1) separates the proportions with one feed-forward and one uniform attention layer.\n";
    else if (x.id == "H4")
      h << (h3 ? "two sequences with the same set of pairwise distinct tokens are the same up to order, so they have "
                 "the same empirical distribution and no transformer of this class tells them apart (obstruction "
                 "O2).\n"
               : "sequences with the same set of tokens need different targets for one token; with repeated tokens "
                 "(H3 fails) their proportions may still differ, so this alone decides nothing.\n");
    else
      h << "the dataset format itself requires 1 <= m_j <= n_j.\n";
  }
  if (rep.verdict() == Applicability::Impossible)
    h << "  Verdict: an obstruction was FOUND (above): no transformer of this class interpolates this dataset, "
         "whatever its depth and width.\n";
  else if (rep.verdict() == Applicability::Outside)
    h << "  Verdict: a hypothesis fails and " << (obstruction ? "" : "no obstruction was found: ")
      << "nothing is proved either way. Neither that some transformer interpolates this dataset, nor that none "
         "does.\n";
  s.here = h.str();
  s.has_check = true;
  s.check_holds = rep.verdict() == Applicability::Applies || rep.verdict() == Applicability::Extended;
  s.check = rep.verdict() == Applicability::Extended
                ? "no obstruction (decided exactly): interpolable by proofs/repeated-and-causal.md, Theorem " +
                      std::string(rep.causal ? "2 (causal)" : "1")
            : s.check_holds ? "every hypothesis decided exactly: H1-H4 hold, no obstruction"
                          : (rep.verdict() == Applicability::Impossible
                                 ? "an obstruction was found: no transformer of this class interpolates this dataset"
                                 : "a hypothesis fails and no obstruction was found: the theorem does not apply, and "
                                   "nothing is proved either way");
  return s;
}

// ---- The construction's steps: shared state ----------------------------------------------------

struct Ctx {
  const Dataset& ds;
  const ConstructionTrace& tr;
  const Model& model;
  const ExplainOptions& opt;
  const Trajectory& traj;
  const ExplainDrawing& dr;
  std::vector<std::size_t> rep;                  // per context: its first sequence
  std::vector<std::vector<std::size_t>> seqs_of;  // per context: its sequences
  std::vector<std::size_t> offset;               // per drawn context: drawn index of its first token

  const Vec input(std::size_t g, std::size_t i) const { return ds.sequences[rep[g]].input[i]; }
  std::size_t drawn(std::size_t g, std::size_t i) const { return g < offset.size() ? offset[g] + i : SIZE_MAX; }
  std::size_t rows_limit() const { return 2 * opt.max_listed; }
  std::string who(std::size_t g) const {
    return "context " + n(g) + " (sequence" + (seqs_of[g].size() > 1 ? "s " : " ") + list_of(seqs_of[g], 4) + ")";
  }
};

// The states of every token between two layer boundaries, one line each: "x: a -> b". With
// only_moved, tokens that did not move are counted, not listed.
std::string state_rows(const Ctx& c, std::size_t from, std::size_t to, bool only_moved) {
  std::ostringstream h;
  std::size_t shown = 0, hidden = 0, still = 0;
  const auto &a = c.traj.states[from], &b = c.traj.states[to];
  for (std::size_t g = 0; g < a.size(); ++g)
    for (std::size_t i = 0; i < a[g].size(); ++i) {
      if (only_moved && a[g][i] == b[g][i]) {
        ++still;
        continue;
      }
      if (shown >= c.rows_limit()) {
        ++hidden;
        continue;
      }
      ++shown;
      h << "    " << c.who(g) << ", token " << vec_text(c.input(g, i)) << ": " << vec_text(a[g][i]) << " -> "
        << vec_text(b[g][i]) << "\n";
    }
  if (hidden) h << "    ... (" << hidden << " more; --max-listed to see them)\n";
  if (only_moved) h << "    (" << still << " other token" << (still == 1 ? "" : "s") << " did not move)\n";
  return h.str();
}

std::string attention_weights(const SelfAttention& sa) {
  std::ostringstream h;
  Vec qrow(sa.Q.a.begin(), sa.Q.a.end());
  h << "  weights: rho = " << q(sa.rho) << ", Q = K = k^T = " << vec_text(qrow) << "^T (one head), V = ";
  if (sa.factored) {
    Vec left(sa.Vleft.a.begin(), sa.Vleft.a.end());
    h << "lambda w k^T = " << vec_text(left) << " k^T (rank one)\n";
  } else {
    h << "(dense " << sa.V.rows << " x " << sa.V.cols << ")\n";
  }
  return h.str();
}

std::string feed_forward_weights(const FeedForward& ff, std::size_t limit) {
  std::ostringstream h;
  h << "  weights: eta = " << q(ff.eta) << ", " << ff.U.rows << " neuron(s) z -> z + sum_j W_j relu(U_j . z + b_j):\n";
  for (std::size_t j = 0; j < ff.U.rows && j < limit; ++j) {
    Vec u(ff.U.cols), w(ff.W.rows);
    for (std::size_t i = 0; i < u.size(); ++i) u[i] = ff.U(j, i);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = ff.W(i, j);
    h << "    U_" << j << " = " << vec_text(u) << ", b_" << j << " = " << q(ff.b[j]) << ", W_" << j << " = " << vec_text(w)
      << "\n";
  }
  if (ff.U.rows > limit) h << "    ... (" << ff.U.rows - limit << " more neurons)\n";
  return h.str();
}

// The block holding code layer r: the r-th block with attention.
std::size_t code_block(const Model& m, std::size_t r) {
  std::size_t count = 0;
  for (std::size_t b = 0; b < m.blocks.size(); ++b)
    if (m.blocks[b].sa && count++ == r) return b;
  return m.blocks.size();
}

// Per context: its requirements (token -> target).
std::vector<std::map<Vec, Vec, bool (*)(const Vec&, const Vec&)>> requirements_by_context(const Ctx& c) {
  std::vector<std::map<Vec, Vec, bool (*)(const Vec&, const Vec&)>> out(c.rep.size(),
                                                                        std::map<Vec, Vec, bool (*)(const Vec&, const Vec&)>(lex_less));
  for (std::size_t j = 0; j < c.ds.sequences.size(); ++j) {
    const auto& sq = c.ds.sequences[j];
    for (std::size_t k = 0; k < sq.output.size(); ++k) out[c.tr.context_of_sequence[j]][sq.input[sq.positions[k]]] = sq.output[k];
  }
  return out;
}

// ---- Lemma 1 -----------------------------------------------------------------------------------


// Outside H1-H4 or causal: the refinement construction, in one step, checked by the reference
// evaluator.
ExplainStep extended_step(const Dataset& ds, const Construction& con, bool causal) {
  ExplainStep s;
  const ConstructionTrace& tr = con.trace;
  s.id = causal ? "causal" : "proportions";
  s.title = causal ? "Causal refinement rounds and hats (proofs/repeated-and-causal.md, Theorem 2)"
                   : "Separating proportions, then hats (proofs/repeated-and-causal.md, Theorem 1)";
  s.lemma = causal ? "With a causal mask a position sees its prefix. Up to three rounds of a feed-forward layer "
                     "z -> z + G(a.z) e (ReLU thresholds at the current points) and a uniform causal attention layer "
                     "(Q = 0) give every position a point that determines its reduced prefix (Lemma 4); then one "
                     "layer of hats moves each requirement point onto its target."
                   : "Outputs depend on a token and the proportions of its sequence. One feed-forward layer "
                     "z -> z + G(a.z) e with a ReLU threshold per conflicting pair of contexts (Lemma 2) and one "
                     "uniform attention layer (Q = 0) shift every context by a different multiple of e; then one "
                     "layer of hats moves each requirement point onto its target.";
  std::ostringstream h;
  h << "  refinement rounds: " << tr.refinement.size() << "\n";
  for (std::size_t r = 0; r < tr.refinement.size(); ++r)
    h << "    round " << r + 1 << ": " << tr.refinement[r].thresholds << " threshold neuron(s), lambda = "
      << q(tr.refinement[r].lambda) << ", " << tr.refinement[r].points_after << " distinct points after it\n";
  h << "  requirement points: " << tr.requirements << ", hats: " << tr.hats.size() << ", blocks: "
    << con.model.blocks.size() << " (bound " << (causal ? 4 : 2) << ")\n";
  s.here = h.str();
  s.has_check = true;
  InterpolationCheck v = check_interpolation(con.model, ds, Evaluator::Reference, 1);
  s.check_holds = !v.first.has_value();
  s.check = std::string("the reference evaluator (exact) maps every output position to its target: ") +
            (s.check_holds ? "confirmed" : "NOT confirmed");
  return s;
}

ExplainStep key_step(const Ctx& c) {
  ExplainStep s;
  s.id = "key";
  s.title = "Key direction (Lemma 1)";
  s.lemma = "Some k = (1, t, t^2, ...) gives the distinct tokens pairwise distinct projections k.p; w = (k_2, -k_1, "
            "0, ...) is orthogonal to k. This is where d >= 2 is used. The figures draw every token at (k.z, w.z): "
            "a leader is the rightmost token of its context, a code is a vertical offset.";
  s.plan = std::string("prepares \"") + kPlanLeaders + "\": k ranks the tokens, and the leader of a sequence will be "
           "its token with the largest k.z.";
  std::ostringstream h;
  h << "  t = " << c.tr.key_t << ": k = " << vec_text(c.tr.k) << ", w = " << vec_text(c.tr.w) << "\n  projections k.p:";
  std::vector<Rational> proj;
  std::set<Vec, bool (*)(const Vec&, const Vec&)> tokens(lex_less);
  for (const auto& sq : c.ds.sequences)
    for (const auto& z : sq.input) tokens.insert(z);
  std::size_t listed = 0;
  for (const auto& z : tokens) {
    proj.push_back(dot(c.tr.k, z));
    if (listed++ < c.opt.max_listed) h << "  " << vec_text(z) << " -> " << q(proj.back()) << ";";
  }
  if (tokens.size() > c.opt.max_listed) h << "  ... (" << tokens.size() << " tokens)";
  s.here = h.str() + "\n";
  std::vector<Rational> sorted = proj;
  std::sort(sorted.begin(), sorted.end());
  bool distinct = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  bool orth = dot(c.tr.k, c.tr.w) == 0;
  s.has_check = true;
  s.check_holds = distinct && orth;
  s.check = (tokens.size() == 1 ? std::string("the only distinct token's projection, recomputed, is trivially distinct")
                                 : "the " + n(tokens.size()) + " distinct tokens' projections, recomputed and sorted, are " +
                                       (distinct ? "pairwise distinct" : "NOT distinct")) +
            "; k.w = " + q(dot(c.tr.k, c.tr.w));
  return s;
}

// ---- Lemma 2 -----------------------------------------------------------------------------------

ExplainStep translate_step(const Ctx& c) {
  ExplainStep s;
  s.id = "translate";
  s.title = "Translation (Lemma 2)";
  s.lemma = "A feed-forward layer with U = 0, b = 1, W = c k moves every token by c k, making every projection "
            "k.z at least 1, so every query of the attention layers is positive.";
  s.plan = std::string("prepares \"") + kPlanLeaders + "\": with every query k.z_i > 0, the largest score "
           "(k.z_i)(k.z_l) of every token is at the same l, the leader.";
  std::size_t after = c.tr.translation == 0 ? 0 : c.traj.before(0, false) + 1;
  Rational lo = dot(c.tr.k, c.traj.states[after][0][0]);
  for (const auto& ctx : c.traj.states[after])
    for (const auto& z : ctx) lo = std::min(lo, dot(c.tr.k, z));
  std::ostringstream h;
  if (c.tr.translation == 0) {
    h << "  not needed: the smallest k.z is already >= 1 (no layer).\n";
  } else {
    h << "  block 0 (feed-forward), c = " << q(c.tr.translation) << ": every token moves by " << q(c.tr.translation)
      << " k = " << vec_text([&] {
           Vec v = c.tr.k;
           for (auto& x : v) x *= c.tr.translation;
           return v;
         }()) << "\n"
      << feed_forward_weights(*c.model.blocks[0].ff, c.opt.max_listed) << "  states (before -> after):\n"
      << state_rows(c, 0, after, false);
  }
  s.here = h.str();
  s.has_check = true;
  s.check_holds = lo >= 1;
  s.check = "smallest k.z over all tokens after this step, recomputed from the model's states: " + q(lo) +
            (s.check_holds ? " >= 1" : " < 1: FAILS");
  s.figure.frame_from = 0;
  s.figure.frame_to = after;
  return s;
}

// ---- Lemmas 3-4 --------------------------------------------------------------------------------

ExplainStep code_step(const Ctx& c, std::size_t r) {
  const CodeRound& rd = c.tr.rounds[r];
  const std::size_t block = code_block(c.model, r);
  const std::size_t bi = c.traj.before(block, true);
  const auto &pre_s = c.traj.states[bi], &post_s = c.traj.states[bi + 1];
  ExplainStep s;
  s.id = "code:" + n(r);
  s.title = "Code layer " + n(r) + " (Lemmas 3-4)";
  s.lemma = "Attention with scores (k.z_i)(k.z_l) and V = lambda w k^T: every token attends to its context's "
            "leader (largest k.z) and moves by lambda (k.leader) w. Contexts with equal codes form a class; a "
            "class in which one token has two targets is a conflict.";
  s.plan = std::string("\"") + kPlanLeaders + "\" and \"" + kPlanCluster + "\": each sequence's tokens all move by "
           "one vector set by its leader, so the sequences of a class collapse onto one shared offset (their code), "
           "and different classes are pulled apart.";
  std::ostringstream h;
  h << "  block " << block << ", lambda = " << q(rd.lambda)
    << (rd.lambdas_tried > 1 ? " (" + n(rd.lambdas_tried - 1) + " earlier candidate(s) would merge classes)" : "") << "\n"
    << attention_weights(*c.model.blocks[block].sa)
    << "  scores: token i gives token l the score (k.z_i)(k.z_l); k.z_i > 0, so its largest score is at the largest "
       "k.z_l: the leader (argmax).\n";
  for (std::size_t g = 0; g < c.rep.size() && g < c.opt.max_listed; ++g)
    h << "  " << c.who(g) << ": leader (argmax of k.z) " << vec_text(*c.tr.tokens[rd.leader[g]]) << " with k.leader = "
      << q(rd.leader_height[g]) << "; moves by " << q(rd.lambda) << " * " << q(rd.leader_height[g])
      << " w; code " << q(rd.code[g]) << ", class " << rd.class_of[g] << "\n";
  if (c.rep.size() > c.opt.max_listed) h << "  ... (" << c.rep.size() << " contexts)\n";
  h << "  afterwards: " << rd.classes << " class(es), " << rd.conflicted_classes << " with a conflict\n";
  h << "  states (before -> after):\n" << state_rows(c, bi, bi + 1, false);
  s.here = h.str();

  // Check: every leader is the strict argmax, every token moved by lambda (k.leader) w; the codes
  // read off the states give the printed classes and conflicts.
  bool ok = true;
  std::string why;
  Rational ww = dot(c.tr.w, c.tr.w);
  std::vector<Rational> code(pre_s.size());
  for (std::size_t g = 0; g < pre_s.size() && ok; ++g) {
    Rational top = dot(c.tr.k, pre_s[g][0]);
    std::size_t at = 0, ties = 0;
    for (std::size_t i = 0; i < pre_s[g].size(); ++i) {
      Rational p = dot(c.tr.k, pre_s[g][i]);
      if (p > top) top = p, at = i, ties = 0;
      else if (p == top && i != at) ++ties;
    }
    if (ties || c.input(g, at) != *c.tr.tokens[rd.leader[g]] || top != rd.leader_height[g]) {
      ok = false, why = "context " + n(g) + ": the leader is not the claimed strict argmax";
      break;
    }
    Vec shift = c.tr.w;
    for (auto& x : shift) x *= rd.lambda * top;
    for (std::size_t i = 0; i < pre_s[g].size() && ok; ++i) {
      Vec expect = pre_s[g][i];
      for (std::size_t j = 0; j < expect.size(); ++j) expect[j] += shift[j];
      if (expect != post_s[g][i]) ok = false, why = "context " + n(g) + ": a token moved otherwise";
    }
    code[g] = (dot(c.tr.w, post_s[g][0]) - dot(c.tr.w, c.input(g, 0))) / ww;  // the code, read off the state
    if (code[g] != rd.code[g]) ok = false, why = "context " + n(g) + ": code differs";
  }
  std::map<Rational, std::map<Vec, std::set<Vec, bool (*)(const Vec&, const Vec&)>, bool (*)(const Vec&, const Vec&)>> classes;
  auto req = requirements_by_context(c);
  for (std::size_t g = 0; g < code.size(); ++g) {
    auto& cls = classes.try_emplace(code[g], lex_less).first->second;
    for (const auto& [x, y] : req[g]) cls.try_emplace(x, lex_less).first->second.insert(y);
  }
  std::size_t conflicted = 0;
  for (const auto& [cd, cls] : classes)
    conflicted += std::any_of(cls.begin(), cls.end(), [](const auto& t) { return t.second.size() > 1; });
  if (ok && classes.size() != rd.classes) ok = false, why = "the number of distinct codes differs from the classes";
  if (ok && conflicted != rd.conflicted_classes) ok = false, why = "the number of conflicted classes differs";
  s.has_check = true;
  s.check_holds = ok;
  s.check = ok ? "the model's attention layer was run exactly on every context: each leader is the strict argmax of "
                 "k.z, every token moved by exactly lambda (k.leader) w, and the codes read off the states give " +
                     n(classes.size()) + " distinct codes = classes, of which " + n(conflicted) +
                     " hold a token with two targets"
               : "FAILS: " + why;
  s.figure.frame_from = bi;
  s.figure.frame_to = bi + 1;
  for (std::size_t g = 0; g < c.offset.size(); ++g) {
    std::size_t lead = 0;
    for (std::size_t i = 0; i < pre_s[g].size(); ++i)
      if (c.input(g, i) == *c.tr.tokens[rd.leader[g]]) lead = i;
    s.figure.focus.push_back(c.drawn(g, lead));
    for (std::size_t i = 0; i < pre_s[g].size(); ++i)
      if (i != lead) s.figure.attention.push_back({c.drawn(g, lead), c.drawn(g, i)});
  }
  return s;
}

// ---- Lemma 5 -----------------------------------------------------------------------------------

// The point of `pts` (other than one at t0) whose projection u.z is nearest to t0, and its distance.
struct Nearest {
  bool found = false;
  Vec point;
  Rational gap;
};
Nearest nearest_other(const std::vector<std::pair<Rational, const Vec*>>& sorted_proj, const Rational& t0) {
  Nearest out;
  auto it = std::lower_bound(sorted_proj.begin(), sorted_proj.end(), t0,
                             [](const auto& a, const Rational& v) { return a.first < v; });
  auto consider = [&](auto p) {
    if (p->first == t0) return;
    Rational g = p->first > t0 ? p->first - t0 : t0 - p->first;
    if (!out.found || g < out.gap) out.found = true, out.gap = g, out.point = *p->second;
  };
  for (auto p = it; p != sorted_proj.end() && p - it < 2; ++p) consider(p);
  if (it != sorted_proj.begin()) consider(std::prev(it));
  return out;
}

std::vector<std::pair<Rational, const Vec*>> projections(const Vec& u, const std::vector<const Vec*>& pts) {
  std::vector<std::pair<Rational, const Vec*>> out;
  for (const Vec* p : pts) out.push_back({dot(u, *p), p});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first == b.first; }), out.end());
  return out;
}

ExplainStep promote_step(const Ctx& c, std::size_t r, const std::vector<const Promotion*>& promos) {
  ExplainStep s;
  s.id = "promote:" + n(r);
  s.title = "Promotions after code layer " + n(r) + " (Lemma 5)";
  s.lemma = "In each class with a conflict, a token p held by some but not all of its contexts is moved, by a "
            "feed-forward hat, above every token: at the next code layer it leads exactly the contexts that hold "
            "it, and the class splits.";
  s.plan = std::string("\"") + kPlanSeparate + "\": sequences that share a leader (and so a code) but need different "
           "targets are told apart by giving some of them a new leader.";
  std::ostringstream h;
  bool ok = true;
  std::string why;
  std::size_t first_layer = promos.front()->layer, last_layer = promos.front()->layer;
  for (auto* p : promos) first_layer = std::min(first_layer, p->layer), last_layer = std::max(last_layer, p->layer);
  for (std::size_t i = 0; i < promos.size(); ++i) {
    const Promotion& p = *promos[i];
    std::size_t fi = c.traj.before(p.layer, false);
    const auto &a = c.traj.states[fi], &b = c.traj.states[fi + 1];
    const FeedForward& ff = *c.model.blocks[p.layer].ff;
    Vec u(ff.U.cols);
    for (std::size_t j = 0; j < u.size(); ++j) u[j] = ff.U(0, j);
    // Where p sits in its class, before the layer.
    Vec pi;
    for (std::size_t k = 0; k < a[p.contexts_with[0]].size(); ++k)
      if (c.input(p.contexts_with[0], k) == *c.tr.tokens[p.token]) pi = a[p.contexts_with[0]][k];
    std::vector<const Vec*> pts;
    for (const auto& ctx : a)
      for (const auto& z : ctx) pts.push_back(&z);
    Nearest nb = nearest_other(projections(u, pts), p.t0);
    Rational alpha = (u[0] - c.tr.k[0]) / c.tr.w[0];
    if (i < c.opt.max_listed) {
      h << "  class " << p.class_label << ": token " << vec_text(*c.tr.tokens[p.conflict_token])
        << " has conflicting targets; promote " << vec_text(*c.tr.tokens[p.token]) << ", held by "
        << (p.contexts_with.size() == 1 ? "context " : "contexts ") << list_of(p.contexts_with, 6) << " but not "
        << list_of(p.contexts_without, 6) << " (separates " << count_of(p.separated_pairs, "conflicting pair")
        << ").\n"
        << "    block " << p.layer << " (feed-forward): the point " << vec_text(pi) << " moves along k, k.z " << q(p.from_height)
        << " -> " << q(p.to_height) << ";\n    hat direction u = k + " << q(alpha) << " w = " << vec_text(u) << ", window t0 = u.pi = "
        << q(p.t0) << ", delta = " << q(p.delta);
      if (nb.found) h << ", set by the nearest other point " << vec_text(nb.point) << " (|u.z - t0| = " << q(nb.gap) << ")\n";
      else h << " (no other point: any window works)\n";
    }
    if (nb.found ? nb.gap != p.delta : p.delta <= 0) ok = false, why = "delta is not the gap to the nearest other point";
    if (dot(u, pi) != p.t0) ok = false, why = "the promoted point is not at the window's centre";
    std::vector<Vec> layer_points;  // every point promoted by this layer
    for (auto* o : promos)
      if (o->layer == p.layer)
        for (std::size_t k = 0; k < a[o->contexts_with[0]].size(); ++k)
          if (c.input(o->contexts_with[0], k) == *c.tr.tokens[o->token]) layer_points.push_back(a[o->contexts_with[0]][k]);
    for (std::size_t g = 0; g < a.size(); ++g)
      for (std::size_t k = 0; k < a[g].size(); ++k) {
        if (a[g][k] == pi && dot(c.tr.k, b[g][k]) != p.to_height) ok = false, why = "the promoted point did not reach its height";
        if (a[g][k] != b[g][k] && std::find(layer_points.begin(), layer_points.end(), a[g][k]) == layer_points.end())
          ok = false, why = "a point that was not promoted moved";
      }
    for (auto g : p.contexts_with)
      for (std::size_t k = 0; k < a[g].size(); ++k)
        if (c.input(g, k) == *c.tr.tokens[p.token]) {
          s.figure.focus.push_back(c.drawn(g, k));
        }
    s.figure.bands.push_back({1.0, alpha.convert_to<double>(), (p.t0 - p.delta).convert_to<double>(),
                              (p.t0 + p.delta).convert_to<double>(),
                              "window of the hat promoting " + vec_text(*c.tr.tokens[p.token]) + " (block " + n(p.layer) +
                                  "): |u.z - " + q(p.t0) + "| < " + q(p.delta),
                              dot(c.tr.k, pi).convert_to<double>(), dot(c.tr.w, pi).convert_to<double>(), nb.found, nb.found ? dot(c.tr.k, nb.point).convert_to<double>() : 0.0,
                              nb.found ? dot(c.tr.w, nb.point).convert_to<double>() : 0.0});
  }
  if (promos.size() > c.opt.max_listed) h << "  ... (" << promos.size() << " promotions)\n";
  std::size_t from = c.traj.before(first_layer, false), to = c.traj.before(last_layer, false) + 1;
  // After the round: p is the strict argmax of k.z in every context holding it.
  for (auto* p : promos)
    for (auto g : p->contexts_with) {
      const auto& z = c.traj.states[to][g];
      Rational top;
      std::size_t at = 0, ties = 0;
      for (std::size_t k = 0; k < z.size(); ++k) {
        Rational v = dot(c.tr.k, z[k]);
        if (k == 0 || v > top) top = v, at = k, ties = 0;
        else if (v == top) ++ties;
      }
      if (ties || c.input(g, at) != *c.tr.tokens[p->token]) ok = false, why = "context " + n(g) + ": p does not lead it";
    }
  for (std::size_t L = first_layer; L <= last_layer; ++L)
    if (c.model.blocks[L].ff) h << "  block " << L << " " << feed_forward_weights(*c.model.blocks[L].ff, c.opt.max_listed).substr(2);
  h << "  tokens that moved (before -> after):\n" << state_rows(c, from, to, true);
  s.here = h.str();
  s.has_check = true;
  s.check_holds = ok;
  s.check = ok ? "on the model's exact states: each delta is the gap from t0 to the nearest other position (so the "
                 "window |u.z - t0| < delta holds no position but the promoted one), the promoted point reaches its "
                 "height, nothing else moves, and afterwards p is the strict argmax of k.z in every context holding it"
               : "FAILS: " + why;
  s.figure.frame_from = from;
  s.figure.frame_to = to;
  return s;
}

// ---- Lemma 6 -----------------------------------------------------------------------------------

ExplainStep hats_step(const Ctx& c, const std::vector<std::size_t>& ctx_of_drawn) {
  const ConstructionTrace& tr = c.tr;
  const bool capped = c.opt.max_ff_width != 0;
  ExplainStep s;
  s.id = "hats";
  s.title = "Interpolation hats (Lemma 6)";
  s.lemma = "Now every requirement position carries one target; one hat per position (width " +
            std::string(capped ? "capped: several layers" : "uncapped: one layer") +
            ") moves it onto its target and leaves every other relevant point (requirement position" +
            (capped ? ", target" : "") + ") in place.";
  s.plan = std::string("\"") + kPlanInterpolate + "\": feed-forward layers act token by token; after the code "
           "layers the point carries the context, so a token-wise map can send each requirement to its target.";
  std::size_t first = c.traj.states.size() - 1;
  for (const auto& hat : tr.hats) first = std::min(first, c.traj.before(hat.layer, false));
  const std::size_t last = c.traj.states.size() - 1;
  const auto& at = c.traj.states[first];
  // The relevant points: requirement positions (and targets, when capped) before the first hat.
  std::vector<const Vec*> pts;
  std::vector<std::vector<bool>> is_output(at.size());
  for (std::size_t g = 0; g < at.size(); ++g) {
    is_output[g].assign(at[g].size(), false);
    for (auto p : c.ds.sequences[c.rep[g]].positions) is_output[g][p] = true;
  }
  for (std::size_t j = 0; j < c.ds.sequences.size(); ++j) {
    std::size_t g = tr.context_of_sequence[j];
    const auto& sq = c.ds.sequences[j];
    for (auto p : sq.positions)
      for (std::size_t i = 0; i < at[g].size(); ++i)
        if (c.input(g, i) == sq.input[p]) pts.push_back(&at[g][i]);
    if (capped)
      for (const auto& y : sq.output) pts.push_back(&y);
  }
  auto proj = projections(tr.u, pts);
  std::ostringstream h;
  h << "  u = (1, s, s^2, ...) with s = " << tr.interpolation_s << ": u = " << vec_text(tr.u) << "; " << proj.size()
    << " relevant points with distinct u.z; " << tr.hats.size() << " hat(s):\n";
  bool ok = true;
  std::string why;
  for (std::size_t i = 0; i < tr.hats.size(); ++i) {
    const auto& hat = tr.hats[i];
    Nearest nb = nearest_other(proj, hat.t0);
    if (i < c.opt.max_listed) {
      h << "  block " << hat.layer << ": " << vec_text(hat.from) << " -> " << vec_text(hat.to) << "  (sequences "
        << list_of(hat.sequences, 6) << "); window t0 = u.z = " << q(hat.t0) << ", delta = " << q(hat.delta);
      if (nb.found) h << ", set by " << vec_text(nb.point) << " (|u.z - t0| = " << q(nb.gap) << ")\n";
      else h << " (a lone point: any window works)\n";
    }
    if (dot(tr.u, hat.from) != hat.t0) ok = false, why = "a window is not centred on its point";
    if (nb.found ? nb.gap != hat.delta : hat.delta <= 0) ok = false, why = "a delta is not the gap to the nearest other relevant point";
  }
  if (tr.hats.size() > c.opt.max_listed) h << "  ... (" << tr.hats.size() << " hats)\n";
  // Tokens that are not requirement positions may lie in a window and move: harmless.
  std::size_t bystanders = 0;
  for (std::size_t g = 0; g < at.size(); ++g)
    for (std::size_t i = 0; i < at[g].size(); ++i)
      bystanders += !is_output[g][i] && at[g][i] != c.traj.states[last][g][i];
  h << "  " << bystanders << " token(s) that are not output positions also moved (they lay in a window). That is "
       "harmless: no attention layer follows, and only output positions are read.\n";
  if (first < last)
    for (std::size_t b = 0; b < c.model.blocks.size(); ++b)
      if (c.model.blocks[b].ff && c.traj.before(b, false) >= first)
        h << "  block " << b << " " << feed_forward_weights(*c.model.blocks[b].ff, c.opt.max_listed).substr(2);
  h << "  tokens that moved (before -> after):\n" << state_rows(c, first, last, true);
  s.here = h.str();
  bool affordable = reference_cost_estimate(c.model, c.ds) <= 2e7;
  InterpolationCheck verdict = check_interpolation(c.model, c.ds, affordable ? Evaluator::Reference : Evaluator::Fast, 0);
  s.has_check = true;
  s.check_holds = ok && !verdict.first;
  s.check = !ok ? "FAILS: " + why
                : !s.check_holds ? "FAILS: " + count_of(verdict.mismatches, "output token") +
                                       (verdict.mismatches == 1 ? " differs" : " differ")
                                 : "each delta is the exact gap from t0 to the nearest other relevant point (so no "
                                   "window holds another), and the whole model was run exactly (" +
                                       std::string(affordable ? "reference" : "fast") + " evaluator) on " +
                                       count_of(c.ds.sequences.size(), "sequence") + ": " +
                                       (c.ds.total_outputs() == 1 ? "the one output token equals its target"
                                                                  : "all " + n(c.ds.total_outputs()) +
                                                                        " output tokens equal their targets");
  s.figure.frame_from = first;
  s.figure.frame_to = last;
  // Windows as bands where u lies in the drawing plane: (k.z, w.z) when d = 2, (z_1, z_2) otherwise.
  bool kw = !tr.k.empty();
  bool planar = c.ds.d == 2;
  double a = 0, bb = 0;
  if (planar && kw) {
    a = (dot(tr.u, tr.k) / dot(tr.k, tr.k)).convert_to<double>();
    bb = (dot(tr.u, tr.w) / dot(tr.w, tr.w)).convert_to<double>();
  } else if (planar) {
    a = tr.u[0].convert_to<double>(), bb = tr.u[1].convert_to<double>();
  }
  auto plane_x = [&](const Vec& z) { return (kw ? dot(tr.k, z) : z[0]).convert_to<double>(); };
  auto plane_y = [&](const Vec& z) { return (kw ? dot(tr.w, z) : (z.size() > 1 ? z[1] : Rational(0))).convert_to<double>(); };
  for (std::size_t i = 0; i < tr.hats.size() && i < 40; ++i) {
    const auto& hat = tr.hats[i];
    if (planar) {
      Nearest nb = nearest_other(proj, hat.t0);
      s.figure.bands.push_back({a, bb, (hat.t0 - hat.delta).convert_to<double>(), (hat.t0 + hat.delta).convert_to<double>(),
                                "window of the hat " + vec_text(hat.from) + " -> " + vec_text(hat.to) + ": |u.z - " +
                                    q(hat.t0) + "| < " + q(hat.delta),
                                plane_x(hat.from), plane_y(hat.from), nb.found, nb.found ? plane_x(nb.point) : 0.0, nb.found ? plane_y(nb.point) : 0.0});
    }
    s.figure.marks.push_back({plane_x(hat.to), plane_y(hat.to), "target " + vec_text(hat.to)});
  }
  for (std::size_t t = 0; t < ctx_of_drawn.size(); ++t) {
    std::size_t g = ctx_of_drawn[t], i = t - c.offset[g];
    if (is_output[g][i]) s.figure.focus.push_back(t);
  }
  return s;
}

ExplainStep no_attention_step(const Dataset& ds) {
  ExplainStep s;
  s.id = "no-attention";
  s.title = "No attention needed";
  s.lemma = "If no token must reach two different targets, a token-wise map suffices: feed-forward hats move each "
            "token to its target, whatever sequence it is in.";
  s.plan = std::string("the paper's plan collapses to its last step, \"") + kPlanInterpolate + "\".";
  s.here = "  every token that appears at an output position has one target in the whole dataset.\n";
  s.has_check = true;
  std::map<Vec, std::set<Vec, bool (*)(const Vec&, const Vec&)>, bool (*)(const Vec&, const Vec&)> targets(lex_less);
  for (const auto& sq : ds.sequences)
    for (std::size_t k = 0; k < sq.output.size(); ++k)
      targets.try_emplace(sq.input[sq.positions[k]], lex_less).first->second.insert(sq.output[k]);
  s.check_holds = std::all_of(targets.begin(), targets.end(), [](const auto& t) { return t.second.size() == 1; });
  s.check = n(targets.size()) + " distinct output tokens, each with exactly one target: " +
            (s.check_holds ? "confirmed" : "NOT confirmed");
  return s;
}

// ---- Lemma 7 -----------------------------------------------------------------------------------

ExplainStep count_step(const Ctx& c) {
  const ConstructionTrace& tr = c.tr;
  ModelStats st = model_stats(c.model);
  const std::size_t T = tr.translation != 0, R = tr.promotions.size(), M = tr.hats.size(), C = tr.rounds.size();
  const std::size_t G = tr.contexts.size(), N = c.ds.sequences.size(), S = c.ds.total_outputs();
  ExplainStep s;
  s.id = "count";
  s.title = "Counting (Lemma 7)";
  s.lemma = "L <= T + R + M <= sum m_j + N blocks, with T <= 1 translation, R <= G - 1 <= N - 1 promotions (each "
            "splits a class; under a width cap each may need its own layer) and M <= sum m_j hats; one rank-one "
            "attention head per block, 3 neurons per hat: the size depends on sum m_j and N, not on the sequence "
            "lengths. Without a width cap all promotions of a round share a layer, and L <= T + C for C code layers.";
  std::ostringstream h;
  h << "  L = " << count_of(st.blocks, "block") << " (" << st.attention_layers << " attention, "
    << count_of(st.feed_forward_layers, "feed-forward layer") << "); T = " << T << ", R = " << R << " promotion(s) in " << (C ? C - 1 : 0)
    << " round(s), C = " << C << " code layer(s), M = " << M << " hat(s); G = " << count_of(G, "context") << ", N = " << N
    << ", sum m_j = " << S << "\n  P = " << st.parameters << " parameters; widest layer " << st.max_ff_width
    << " neurons" << (c.opt.max_ff_width ? " (cap " + n(c.opt.max_ff_width) + ")" : "") << "; rank(Q^T K) <= "
    << st.max_score_rank << ", rank(V) <= " << st.max_value_rank << "\n  |theta|^2 = " << rational_short(st.squared_norm)
    << " (so the Tikhonov objective has min J_eps <= eps |theta|^2)\n  bounds: T + R + M = " << T + R + M
    << ", sum m_j + N = " << construction_block_bound(c.ds) << " (this construction), 2 sum m_j + 2N + 1 = "
    << paper_hardmax_block_bound(c.ds) << " (the paper, hardmax)\n";
  s.here = h.str();
  bool lemma = st.blocks <= T + R + M, parts = T <= 1 && R + 1 <= std::max<std::size_t>(G, 1) && G <= N && M <= S;
  bool uncapped = c.opt.max_ff_width != 0 || st.blocks <= T + std::max<std::size_t>(C, 1);
  bool shape = st.max_heads <= 1 && st.max_score_rank <= 1 && (c.opt.max_ff_width == 0 || st.max_ff_width <= c.opt.max_ff_width);
  s.has_check = true;
  s.check_holds = lemma && parts && uncapped && shape;
  s.check = "counted from the model and the construction: L = " + n(st.blocks) + (lemma ? " <= " : " > ") + "T + R + M = " +
            n(T + R + M) + "; T = " + n(T) + " <= 1, R = " + n(R) + " <= G - 1 = " + n(G ? G - 1 : 0) + ", G = " + n(G) +
            " <= N = " + n(N) + ", M = " + n(M) + " <= sum m_j = " + n(S) + " (so L <= sum m_j + N = " +
            n(construction_block_bound(c.ds)) + ")" +
            (c.opt.max_ff_width ? "" : "; uncapped: L = " + n(st.blocks) + " <= T + C = " + n(T + std::max<std::size_t>(C, 1))) +
            "; at most one head, rank(Q^T K) <= 1" + (c.opt.max_ff_width ? ", every layer within the width cap" : "") +
            (s.check_holds ? "" : ": FAILS");
  return s;
}

// ---- Softmax ----------------------------------------------------------------------------------

ExplainStep softmax_step(const Ctx& c, const Rational& beta) {
  ExplainStep s;
  s.id = "softmax";
  s.title = "Softmax at beta = " + q(beta) + " (proofs/softmax-bound.md)";
  s.lemma = "Run the same weights with softmax attention. At a code layer the weight off the leader is at most "
            "e^{-beta q' Gamma'} per token, (n - 1) tokens: e' = e (1 + |lambda w||k|) + |lambda w| (n - 1) Gamma' "
            "e^{-beta q' Gamma'} with q' = q - |k| e, Gamma' = Gamma - 2|k| e (Lemma A); a feed-forward layer "
            "multiplies the error by its Lipschitz constant |eta| + sum_j |W_j||U_j| (Lemma B). From e = 0.";
  AprioriBound ap = softmax_a_priori_bound(c.model, c.ds, beta);
  std::ostringstream h;
  h << "  the recursion on this dataset (q, Gamma, n exact from the hardmax states; the rest upper bounds):\n";
  for (const auto& l : ap.layers) {
    if (l.attention)
      h << "  block " << l.block << " attention: q = " << q(l.query) << ", Gamma = " << q(l.gap) << ", n = " << l.n
        << ", |lambda w| <= " << d3(l.value_norm) << ", |k| <= " << d3(l.key_norm) << "; fresh term |lambda w| (n - 1) "
        << "Gamma' e^{-beta q' Gamma'} <= " << d3(l.fresh) << ", factor 1 + |lambda w||k| <= " << d3(l.amplification)
        << "; e <= " << d3(l.error_after) << "\n";
    else
      h << "  block " << l.block << " feed-forward: Lipschitz constant <= " << d3(l.amplification) << "; e <= "
        << d3(l.error_after) << "\n";
  }
  if (ap.available)
    h << "  a-priori bound: max |output - target| <= " << d3(ap.bound) << " (rigorous: ball arithmetic, rounded up)\n";
  else
    h << "  a-priori bound: not available at this beta: " << ap.reason << "\n";
  Model m = c.model;
  m.attention = AttentionKind::Softmax;
  m.beta = beta;
  SoftmaxBound cert = certify_softmax_error(m, c.ds, 256, 0);
  h << "  certified bound (the softmax model evaluated in ball arithmetic, " << cert.precision << " bits): ";
  if (cert.finite) h << "max |output - target| <= " << d3(cert.bound) << "\n";
  else h << "not finite at this precision\n";
  if (ap.available && cert.finite && cert.bound > 0)
    h << "  the a-priori bound is about " << [&] {
      char b[32];  // an informal ratio of two proved bounds; nothing rests on it
      std::snprintf(b, sizeof b, "%.2g", (ap.bound / cert.bound).convert_to<double>());
      return std::string(b);
    }() << " times the certified one: it uses only the smallest query, the smallest leader gap and the longest "
         "sequence, and the worst-case hat slopes.\n";
  s.here = h.str();
  if (ap.available) {
    s.has_check = true;
    s.check_kind = "rigorous, ball arithmetic";
    s.check_holds = true;
    s.check = "Lemma A's hypotheses hold at every code layer at this beta (Gamma' > 0, q' > 0, beta q' Gamma' >= 1, "
              "decided in ball arithmetic), so the a-priori bound above is proved";
  }
  return s;
}

// ---- The drawing -------------------------------------------------------------------------------

ExplainDrawing::Frame frame_of(const ConstructionTrace& tr, const std::vector<std::vector<Vec>>& st, std::size_t contexts,
                               std::string label) {
  ExplainDrawing::Frame f;
  f.label = std::move(label);
  const bool kw = !tr.k.empty();
  for (std::size_t g = 0; g < contexts; ++g)
    for (const auto& z : st[g]) {
      Rational x = kw ? dot(tr.k, z) : z[0], y = kw ? dot(tr.w, z) : (z.size() > 1 ? z[1] : Rational(0));
      f.x.push_back(x.convert_to<double>());
      f.y.push_back(y.convert_to<double>());
      f.z.push_back(vec_text(z));
    }
  return f;
}

// The drawing: the tokens of the first contexts (up to 2000 tokens), their states after every
// layer, and the requirement rows linked to them. offset[g]: the drawn index of context g's first token.
void fill_drawing(ExplainDrawing& dr, const Dataset& ds, const ConstructionTrace& tr, const Trajectory& traj,
                  const std::vector<std::size_t>& rep, const std::vector<std::vector<std::size_t>>& seqs_of,
                  std::vector<std::size_t>& offset, std::vector<std::size_t>& ctx_of_drawn) {
  const std::size_t G = rep.size();
  const auto& reps = traj.states[0];
  for (std::size_t g = 0, total = 0; g < G && total + reps[g].size() <= 2000; total += reps[g].size(), ++g) {
    offset.push_back(total);
    for (std::size_t i = 0; i < reps[g].size(); ++i) {
      const auto& sq = ds.sequences[rep[g]];
      std::string target;
      for (std::size_t k = 0; k < sq.positions.size(); ++k)
        if (sq.positions[k] == i) target = vec_text(sq.output[k]);
      dr.tokens.push_back({g, rep[g], i, vec_text(sq.input[i]), target});
      ctx_of_drawn.push_back(g);
    }
  }
  dr.contexts_total = G;
  dr.sequences_of_context.assign(seqs_of.begin(), seqs_of.begin() + static_cast<std::ptrdiff_t>(offset.size()));
  dr.x_label = tr.k.empty() ? "z_1" : "k.z  (k = " + vec_text(tr.k) + ")";
  dr.y_label = tr.k.empty() ? (ds.d > 1 ? "z_2" : "0") : "w.z  (w = " + vec_text(tr.w) + ")";
  dr.frames.push_back(frame_of(tr, traj.states[0], offset.size(), "input"));
  for (std::size_t l = 0; l < traj.layers.size(); ++l)
    dr.frames.push_back(frame_of(tr, traj.states[l + 1], offset.size(),
                                 "after block " + n(traj.layers[l].block) + (traj.layers[l].attention ? " attention" : " feed-forward")));
  for (auto& row : dr.rows) {
    row.context = tr.context_of_sequence[row.sequence];
    if (row.context < offset.size())
      for (std::size_t i = 0; i < reps[row.context].size(); ++i)
        if (vec_text(reps[row.context][i]) == row.input) row.token = offset[row.context] + i;
  }

}

}  // namespace

std::vector<std::size_t> find_steps(const Explanation& ex, const std::string& name) {
  std::vector<std::size_t> out;
  if (!name.empty() && std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    std::size_t k = name.size() < 9 ? std::stoul(name) : 0;
    if (k >= 1 && k <= ex.steps.size()) out.push_back(k - 1);
    return out;
  }
  for (std::size_t i = 0; i < ex.steps.size(); ++i)
    if (ex.steps[i].id == name || ex.steps[i].id.rfind(name + ":", 0) == 0) out.push_back(i);
  return out;
}

std::string step_text(const ExplainStep& s, std::size_t number) {
  std::string o = "Step " + std::to_string(number) + " [" + s.id + "]. " + s.title + "\n  Lemma: " + s.lemma + "\n";
  if (!s.plan.empty()) o += "  In the paper's plan: " + s.plan + "\n";
  o += "  Here:\n" + s.here;
  if (s.has_check) o += "  Check (" + s.check_kind + "): " + (s.check_holds ? "HOLDS" : "FAILS") + ": " + s.check + "\n";
  return o;
}

Explanation explain_dataset(const Dataset& ds, const std::string& name, const ExplainOptions& opt) {
  Explanation ex;
  std::ostringstream hd;
  hd << "THE THEOREM. " << theorem_statement() << "\n\nYOUR DATASET: " << name << ": N = " << count_of(ds.sequences.size(), "sequence")
     << " in Q^" << ds.d << ", " << count_of(ds.total_tokens(), "token") << ", sum m_j = "
     << count_of(ds.total_outputs(), "output token") << ".\nTHE PAPER'S PLAN: " << kPlanSeparate << ", " << kPlanLeaders << ", " << kPlanCluster << ", "
     << kPlanInterpolate << ". Each step below says where it sits in it.\n"
     << "Every check below is computed exactly in rational arithmetic"
     << (opt.softmax_beta ? ", except the softmax step's: rigorous ball arithmetic (outward rounding)" : "") << ".\n";
  ex.header = hd.str();
  ExplainDrawing& dr = ex.drawing;
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    const auto& sq = ds.sequences[j];
    for (std::size_t k = 0; k < sq.output.size(); ++k)
      dr.rows.push_back({j, sq.positions[k], 0, vec_text(sq.input[sq.positions[k]]), vec_text(sq.output[k]), SIZE_MAX});
  }
  PreconditionReport pre = check_preconditions(ds, opt.causal);
  ex.steps.push_back(requirements_step(ds, dr, opt));
  ex.steps.push_back(preconditions_step(pre));
  if (pre.verdict() == Applicability::Extended) {
    ConstructOptions co;
    co.max_ff_width = opt.max_ff_width;
    co.causal = opt.causal;
    Construction con = construct_model(ds, co, pre);
    ex.steps.push_back(extended_step(ds, con, opt.causal));
    ex.all_checks_hold = ex.steps.back().check_holds;
    ex.exit_status = ex.all_checks_hold ? 0 : 1;
    ex.conclusion = ex.all_checks_hold ? "CONCLUSION: beyond the paper's hypotheses, a transformer of " +
                                             std::to_string(con.model.blocks.size()) +
                                             " blocks interpolates this dataset exactly (checked in step 2)."
                                       : "CONCLUSION: the construction FAILED its exact check; please report this.";
    return ex;
  }
  if (pre.verdict() != Applicability::Applies) {
    ex.exit_status = pre.verdict() == Applicability::Impossible ? 1 : 3;
    ex.conclusion = pre.verdict() == Applicability::Impossible
                        ? "CONCLUSION: no transformer of this class interpolates this dataset (proof in step 2)."
                        : "CONCLUSION: the theorem does not apply; the construction is not attempted, and nothing "
                          "is claimed about whether some transformer interpolates this dataset.";
    return ex;
  }
  ex.theorem_applies = true;
  Construction con = construct_model(ds, {opt.max_ff_width, false}, pre);
  const ConstructionTrace& tr = con.trace;
  const Model& model = con.model;
  const std::size_t G = tr.contexts.size();
  std::vector<std::size_t> rep(G, SIZE_MAX);
  std::vector<std::vector<std::size_t>> seqs_of(G);
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) {
    std::size_t g = tr.context_of_sequence[j];
    if (rep[g] == SIZE_MAX) rep[g] = j;
    seqs_of[g].push_back(j);
  }
  std::vector<std::vector<Vec>> reps;
  for (auto j : rep) reps.push_back(ds.sequences[j].input);
  Trajectory traj(model, reps);

  std::vector<std::size_t> offset, ctx_of_drawn;
  fill_drawing(dr, ds, tr, traj, rep, seqs_of, offset, ctx_of_drawn);

  Ctx c{ds, tr, model, opt, traj, dr, rep, seqs_of, offset};
  if (!tr.uses_attention) {
    ex.steps.push_back(no_attention_step(ds));
  } else {
    ex.steps.push_back(key_step(c));
    ex.steps.push_back(translate_step(c));
    for (std::size_t r = 0; r < tr.rounds.size(); ++r) {
      ex.steps.push_back(code_step(c, r));
      std::vector<const Promotion*> promos;
      for (const auto& p : tr.promotions)
        if (p.round == r) promos.push_back(&p);
      if (!promos.empty()) ex.steps.push_back(promote_step(c, r, promos));
    }
  }
  ex.steps.push_back(hats_step(c, ctx_of_drawn));
  ex.steps.push_back(count_step(c));
  StepFigure whole;  // the counting (and softmax) steps show the whole journey
  whole.frame_to = dr.frames.size() - 1;
  whole.focus = ex.steps[ex.steps.size() - 2].figure.focus;
  whole.marks = ex.steps[ex.steps.size() - 2].figure.marks;
  ex.steps.back().figure = whole;
  if (opt.softmax_beta) {
    ex.steps.push_back(softmax_step(c, *opt.softmax_beta));
    ex.steps.back().figure = whole;
  }

  for (const auto& s : ex.steps) ex.all_checks_hold = ex.all_checks_hold && (!s.has_check || s.check_holds);
  ex.exit_status = ex.all_checks_hold ? 0 : 1;
  ex.conclusion = ex.all_checks_hold
                      ? "CONCLUSION: by Lemmas 1-7, each checked above on your data, this " + n(model.blocks.size()) +
                            "-block hardmax transformer interpolates your dataset exactly. `interpcert certify` writes "
                            "a certificate of it that `interpcert-check` re-verifies independently."
                      : "CONCLUSION: a check FAILED above. That is a bug in interpcert; please report it with the dataset.";
  return ex;
}

}  // namespace interpcert
