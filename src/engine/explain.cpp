#include "interpcert/explain.hpp"

#include "figure.hpp"
#include "interpcert/construct.hpp"
#include "interpcert/evaluate_fast.hpp"
#include "interpcert/evaluate_reference.hpp"
#include "interpcert/interpolation.hpp"
#include "interpcert/model_stats.hpp"
#include "interpcert/preconditions.hpp"
#include "interpcert/text_util.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace interpcert {
namespace {

std::string q(const Rational& r) { return rational_to_string(r); }
double f(const Rational& r) { return r.convert_to<double>(); }

std::string list_of(const std::vector<std::size_t>& v, std::size_t max = 12) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  if (v.size() > max) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

// The states of one representative sequence per context, after every layer of the model.
// layer_states[i] are the tokens before layer i (a layer is one block's SA, or its FF).
struct Trajectory {
  struct Layer {
    std::size_t block;
    bool attention;
  };
  std::vector<Layer> layers;
  std::vector<std::vector<std::vector<Vec>>> states;  // [layer boundary][context][token]
  std::string evaluator;

  Trajectory(const Model& m, const std::vector<std::vector<Vec>>& reps) {
    std::size_t tokens = 0;
    for (const auto& r : reps) tokens += r.size();
    bool reference = tokens * std::max<std::size_t>(1, m.blocks.size()) <= 200000;
    evaluator = reference ? "reference" : "fast";
    states.push_back(reps);
    for (std::size_t b = 0; b < m.blocks.size(); ++b)
      for (bool att : {true, false}) {
        if (att ? !m.blocks[b].sa : !m.blocks[b].ff) continue;
        Model one;
        one.d = m.d;
        one.mask = m.mask;
        one.blocks.push_back(att ? Block{m.blocks[b].sa, std::nullopt} : Block{std::nullopt, m.blocks[b].ff});
        std::vector<std::vector<Vec>> next = states.back();
        if (reference)
          for (auto& s : next) s = evaluate_reference(one, std::move(s));
        else
          next = evaluate_fast(one, std::move(next), 0);
        layers.push_back({b, att});
        states.push_back(std::move(next));
      }
  }
  // Index of the boundary before the given layer.
  std::size_t before(std::size_t block, bool attention) const {
    for (std::size_t i = 0; i < layers.size(); ++i)
      if (layers[i].block == block && layers[i].attention == attention) return i;
    return layers.size();
  }
};

struct Ctx {  // shared state of one explanation
  const Dataset& ds;
  const ConstructionTrace& tr;
  const Model& model;
  const ExplainOptions& opt;
  std::vector<std::size_t> rep;  // per context: its first sequence
  bool plane = false;            // d > 2: draw in the plane of k and w
};

// Drawing coordinates of a point: itself when d = 2, else (k.z/|k|, w.z/|w|).
std::pair<double, double> xy(const Ctx& c, const Vec& z) {
  if (!c.plane) return {f(z[0]), f(z[1])};
  const Vec &k = c.tr.k, &w = c.tr.w;
  return {f(dot(k, z)) / std::sqrt(f(dot(k, k))), f(dot(w, z)) / std::sqrt(f(dot(w, w)))};
}

Figure figure_of(const Ctx& c, const std::vector<std::vector<Vec>>& state) {
  Figure fig;
  if (c.plane) fig.x_label = "k.z / |k|", fig.y_label = "w.z / |w|";
  for (std::size_t g = 0; g < state.size(); ++g)
    for (std::size_t i = 0; i < state[g].size(); ++i) {
      auto [x, y] = xy(c, state[g][i]);
      fig.points.push_back({x, y, static_cast<int>(g), 'o',
                            "context " + std::to_string(g) + " (sequence " + std::to_string(c.rep[g]) + "), token " +
                                vec_text(c.ds.sequences[c.rep[g]].input[i]) + " now at " + vec_text(state[g][i])});
    }
  return fig;
}

void add_moves(const Ctx& c, Figure& fig, const std::vector<std::vector<Vec>>& a, const std::vector<std::vector<Vec>>& b) {
  std::size_t drawn = 0;
  for (std::size_t g = 0; g < a.size(); ++g)
    for (std::size_t i = 0; i < a[g].size() && drawn < 400; ++i)
      if (a[g][i] != b[g][i]) {
        auto [x0, y0] = xy(c, a[g][i]);
        auto [x1, y1] = xy(c, b[g][i]);
        fig.arrows.push_back({x0, y0, x1, y1, static_cast<int>(g)});
        ++drawn;
      }
}

ExplainStep preconditions_step(const PreconditionReport& rep) {
  ExplainStep s;
  s.title = "Preconditions";
  s.lemma = "The theorem needs H1-H4. Obstructions O1 and O2 make interpolation impossible for every transformer "
            "of this class (proofs/theorem.md, sections 2-3).";
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
           "impossible only when the proportions also agree (O2); otherwise proofs/repeated-and-causal.md "
           "(Theorem 1) separates the proportions with one feed-forward and one uniform attention layer.\n";
    else if (x.id == "H4")
      h << "two sequences with the same set of distinct tokens are the same up to order, and a transformer "
           "cannot tell them apart: that is obstruction O2.\n";
    else
      h << "the dataset format itself requires 1 <= m_j <= n_j.\n";
  }
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

// Outside H1-H4 or causal: the refinement construction, in one step, checked by the reference
// evaluator.
ExplainStep extended_step(const Dataset& ds, const Construction& con, bool causal) {
  ExplainStep s;
  const ConstructionTrace& tr = con.trace;
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
  s.title = "Key direction (Lemma 1)";
  s.lemma = "Some k = (1, t, t^2, ...) gives the distinct tokens pairwise distinct projections k.p; w = (k_2, -k_1, "
            "0, ...) is orthogonal to k. This is where d >= 2 is used.";
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
  s.check = "the " + std::to_string(tokens.size()) + " distinct tokens' projections, recomputed and sorted, are " +
            (distinct ? "pairwise distinct" : "NOT distinct") + "; k.w = " + q(dot(c.tr.k, c.tr.w));
  Figure fig;
  for (std::size_t g = 0; g < c.rep.size(); ++g)
    for (const auto& z : c.ds.sequences[c.rep[g]].input) {
      auto [x, y] = xy(c, z);
      fig.points.push_back({x, y, static_cast<int>(g), 'o', vec_text(z) + ", k.z = " + q(dot(c.tr.k, z))});
    }
  if (c.plane) fig.x_label = "k.z / |k|", fig.y_label = "w.z / |w|";
  s.svg = fig.svg();
  return s;
}

}  // namespace

Explanation explain_dataset(const Dataset& ds, const std::string& name, const ExplainOptions& opt) {
  Explanation ex;
  std::ostringstream hd;
  hd << "THE THEOREM. " << theorem_statement() << "\n\nYOUR DATASET: " << name << ": N = " << ds.sequences.size()
     << " sequences in Q^" << ds.d << ", " << ds.total_tokens() << " tokens, sum m_j = " << ds.total_outputs()
     << " output tokens.\nEvery check below is computed exactly in rational arithmetic.\n";
  ex.header = hd.str();
  PreconditionReport pre = check_preconditions(ds, opt.causal);
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
                        ? "CONCLUSION: no transformer of this class interpolates this dataset (proof in step 1)."
                        : "CONCLUSION: the theorem does not apply; the construction is not attempted, and nothing "
                          "is claimed about whether some transformer interpolates this dataset.";
    ex.all_checks_hold = true;
    return ex;
  }
  ex.theorem_applies = true;
  Construction con = construct_model(ds, {opt.max_ff_width}, pre);
  const ConstructionTrace& tr = con.trace;
  const Model& model = con.model;
  Ctx c{ds, tr, model, opt, {}, ds.d > 2};
  std::vector<bool> seen(tr.contexts.size(), false);
  c.rep.resize(tr.contexts.size());
  for (std::size_t j = 0; j < ds.sequences.size(); ++j)
    if (!seen[tr.context_of_sequence[j]]) seen[tr.context_of_sequence[j]] = true, c.rep[tr.context_of_sequence[j]] = j;
  std::vector<std::vector<Vec>> reps;
  for (auto j : c.rep) reps.push_back(ds.sequences[j].input);
  Trajectory traj(model, reps);
  std::vector<std::vector<std::size_t>> seqs_of(tr.contexts.size());
  for (std::size_t j = 0; j < ds.sequences.size(); ++j) seqs_of[tr.context_of_sequence[j]].push_back(j);

  if (!tr.uses_attention) {
    ExplainStep s;
    s.title = "No attention needed";
    s.lemma = "If no token must reach two different targets, a token-wise map suffices: feed-forward hats move each "
              "token to its target, whatever sequence it is in.";
    s.here = "  every token that appears at an output position has one target in the whole dataset.\n";
    s.has_check = true;
    std::map<Vec, std::set<Vec, bool (*)(const Vec&, const Vec&)>, bool (*)(const Vec&, const Vec&)> targets(lex_less);
    for (const auto& sq : ds.sequences)
      for (std::size_t k = 0; k < sq.output.size(); ++k)
        targets.try_emplace(sq.input[sq.positions[k]], lex_less).first->second.insert(sq.output[k]);
    s.check_holds = std::all_of(targets.begin(), targets.end(), [](const auto& t) { return t.second.size() == 1; });
    s.check = std::to_string(targets.size()) + " output tokens, each with exactly one target: " +
              (s.check_holds ? "confirmed" : "NOT confirmed");
    ex.steps.push_back(s);
  } else {
    ex.steps.push_back(key_step(c));
    // Lemma 2.
    ExplainStep s;
    s.title = "Translation (Lemma 2)";
    s.lemma = "A feed-forward layer with U = 0, b = 1, W = c k moves every token by c k, making every projection "
              "k.z at least 1, so every query of the attention layers is positive.";
    std::size_t after = tr.translation == 0 ? 0 : traj.before(0, false) + 1;
    Rational lo = dot(tr.k, traj.states[after][0][0]);
    for (const auto& ctx : traj.states[after])
      for (const auto& z : ctx) lo = std::min(lo, dot(tr.k, z));
    s.here = tr.translation == 0 ? "  not needed: the smallest k.z is already >= 1 (no layer).\n"
                                 : "  c = " + q(tr.translation) + ": every token moves by " + q(tr.translation) +
                                       " k (block 0).\n";
    s.has_check = true;
    s.check_holds = lo >= 1;
    s.check = "smallest k.z over all tokens after this step, recomputed from the model's states: " + q(lo) +
              (s.check_holds ? " >= 1" : " < 1: FAILS");
    Figure fig = figure_of(c, traj.states[after]);
    if (after) add_moves(c, fig, traj.states[0], traj.states[after]);
    s.svg = fig.svg();
    ex.steps.push_back(s);

    for (std::size_t r = 0; r < tr.rounds.size(); ++r) {
      const CodeRound& rd = tr.rounds[r];
      // The block of code layer r: the r-th block with attention.
      std::size_t block = 0, count = 0;
      for (std::size_t b = 0; b < model.blocks.size(); ++b)
        if (model.blocks[b].sa && count++ == r) block = b;
      std::size_t bi = traj.before(block, true);
      const auto &pre_s = traj.states[bi], &post_s = traj.states[bi + 1];
      ExplainStep cs;
      cs.title = "Code layer " + std::to_string(r) + " (Lemmas 3-4)";
      cs.lemma = "Attention with scores (k.z_i)(k.z_l) and V = lambda w k^T: every token attends to its context's "
                 "leader (largest k.z) and moves by lambda (k.leader) w. Contexts with equal codes form a class; a "
                 "class in which one token has two targets is a conflict.";
      std::ostringstream h;
      h << "  block " << block << ", lambda = " << q(rd.lambda)
        << (rd.lambdas_tried > 1 ? " (" + std::to_string(rd.lambdas_tried - 1) + " earlier candidates would merge classes)" : "")
        << "\n";
      for (std::size_t g = 0; g < tr.contexts.size() && g < opt.max_listed; ++g)
        h << "  context " << g << " (sequences " << list_of(seqs_of[g], 6) << "): leader " << vec_text(*tr.tokens[rd.leader[g]])
          << " with k.leader = " << q(rd.leader_height[g]) << ", code " << q(rd.code[g]) << ", class " << rd.class_of[g] << "\n";
      if (tr.contexts.size() > opt.max_listed) h << "  ... (" << tr.contexts.size() << " contexts)\n";
      h << "  afterwards: " << rd.classes << " class(es), " << rd.conflicted_classes << " with a conflict\n";
      cs.here = h.str();
      // Check: every token moved by lambda (k.leader) w, the leader being the strict argmax; codes and classes.
      bool ok = true;
      std::string why;
      Rational ww = dot(tr.w, tr.w);
      std::map<Rational, std::size_t> class_of_code;
      for (std::size_t g = 0; g < pre_s.size() && ok; ++g) {
        Rational top = dot(tr.k, pre_s[g][0]);
        std::size_t at = 0, ties = 0;
        for (std::size_t i = 0; i < pre_s[g].size(); ++i) {
          Rational p = dot(tr.k, pre_s[g][i]);
          if (p > top) top = p, at = i, ties = 0;
          else if (p == top && i != at) ++ties;
        }
        if (ties || ds.sequences[c.rep[g]].input[at] != *tr.tokens[rd.leader[g]] || top != rd.leader_height[g]) {
          ok = false, why = "context " + std::to_string(g) + ": the leader is not the claimed strict argmax";
          break;
        }
        Vec shift = tr.w;
        for (auto& x : shift) x *= rd.lambda * top;
        for (std::size_t i = 0; i < pre_s[g].size() && ok; ++i) {
          Vec expect = pre_s[g][i];
          for (std::size_t j = 0; j < expect.size(); ++j) expect[j] += shift[j];
          if (expect != post_s[g][i]) ok = false, why = "context " + std::to_string(g) + ": a token moved otherwise";
        }
        // The code, read off the state: (w.z - w.x) / |w|^2 for the first token.
        Rational code = (dot(tr.w, post_s[g][0]) - dot(tr.w, ds.sequences[c.rep[g]].input[0])) / ww;
        if (code != rd.code[g]) ok = false, why = "context " + std::to_string(g) + ": code differs";
        class_of_code.try_emplace(code, class_of_code.size());
      }
      if (ok && class_of_code.size() != rd.classes) ok = false, why = "the number of distinct codes differs from the classes";
      cs.has_check = true;
      cs.check_holds = ok;
      cs.check = ok ? "the model's attention layer was run exactly on every context: each leader is the strict "
                      "argmax of k.z, every token moved by exactly lambda (k.leader) w, and the codes read off the "
                      "states give " + std::to_string(class_of_code.size()) + " distinct codes = classes"
                    : "FAILS: " + why;
      Figure fig = figure_of(c, post_s);
      add_moves(c, fig, pre_s, post_s);
      for (std::size_t g = 0; g < post_s.size(); ++g)
        for (std::size_t i = 0; i < post_s[g].size(); ++i)
          if (ds.sequences[c.rep[g]].input[i] == *tr.tokens[rd.leader[g]]) {
            auto [x, y] = xy(c, post_s[g][i]);
            fig.points.push_back({x, y, static_cast<int>(g), '*', "leader of context " + std::to_string(g)});
          }
      cs.svg = fig.svg();
      ex.steps.push_back(cs);

      // The promotions after this code layer.
      std::vector<const Promotion*> promos;
      for (const auto& p : tr.promotions)
        if (p.round == r) promos.push_back(&p);
      if (promos.empty()) continue;
      ExplainStep ps;
      ps.title = "Promotions after code layer " + std::to_string(r) + " (Lemma 5)";
      ps.lemma = "In each class with a conflict, a token p held by some but not all of its contexts is moved, by a "
                 "feed-forward hat, above every token: at the next code layer it leads exactly the contexts that "
                 "hold it, and the class splits.";
      std::ostringstream ph;
      bool pok = true;
      std::string pwhy;
      Figure fig2;
      for (std::size_t i = 0; i < promos.size(); ++i) {
        const Promotion& p = *promos[i];
        if (i < opt.max_listed)
          ph << "  class " << p.class_label << ": token " << vec_text(*tr.tokens[p.conflict_token]) << " has conflicting targets; promote "
             << vec_text(*tr.tokens[p.token]) << ", held by contexts " << list_of(p.contexts_with, 6) << " but not "
             << list_of(p.contexts_without, 6) << " (separates " << p.separated_pairs << " conflicting pairs); height "
             << q(p.from_height) << " -> " << q(p.to_height) << "; hat window t0 = " << q(p.t0) << " +- " << q(p.delta)
             << " in block " << p.layer << "\n";
        // Check on the model's states around the promotion's feed-forward layer.
        std::size_t fi = traj.before(p.layer, false);
        const auto &a = traj.states[fi], &b = traj.states[fi + 1];
        const FeedForward& ff = *model.blocks[p.layer].ff;
        Vec u(ff.U.cols);
        for (std::size_t j = 0; j < u.size(); ++j) u[j] = ff.U(0, j);
        auto point_of = [&](const Promotion& o) {  // where o's token sits in its class, before the layer
          std::size_t g = o.contexts_with[0];
          for (std::size_t k = 0; k < a[g].size(); ++k)
            if (ds.sequences[c.rep[g]].input[k] == *tr.tokens[o.token]) return a[g][k];
          return Vec{};
        };
        Vec pi = point_of(p);
        std::vector<Vec> layer_points;  // every point promoted by this layer
        for (auto* o : promos)
          if (o->layer == p.layer) layer_points.push_back(point_of(*o));
        for (std::size_t g = 0; g < a.size(); ++g)
          for (std::size_t k = 0; k < a[g].size(); ++k) {
            Rational t = dot(u, a[g][k]) - p.t0;
            if (t < 0) t = -t;
            if (a[g][k] != pi && t < p.delta) pok = false, pwhy = "a position other than the promoted one lies in the window";
            if (a[g][k] == pi && dot(tr.k, b[g][k]) != p.to_height) pok = false, pwhy = "the promoted point did not reach its height";
            if (a[g][k] != b[g][k] && std::find(layer_points.begin(), layer_points.end(), a[g][k]) == layer_points.end())
              pok = false, pwhy = "a point that was not promoted moved";
          }
        if (i == 0) {
          fig2 = figure_of(c, a);
          add_moves(c, fig2, a, b);
        }
        // u = k + alpha w lies in the plane of k and w: in the drawing the window is a strip.
        Rational alpha = (u[0] - tr.k[0]) / tr.w[0];
        if (c.plane)
          fig2.strips.push_back({std::sqrt(f(dot(tr.k, tr.k))), f(alpha) * std::sqrt(f(dot(tr.w, tr.w))),
                                 f(p.t0 - p.delta), f(p.t0 + p.delta)});
        else
          fig2.strips.push_back({f(u[0]), f(u[1]), f(p.t0 - p.delta), f(p.t0 + p.delta)});
      }
      if (promos.size() > opt.max_listed) ph << "  ... (" << promos.size() << " promotions)\n";
      ps.here = ph.str();
      ps.has_check = true;
      ps.check_holds = pok;
      ps.check = pok ? "on the model's exact states: each window |u.z - t0| < delta holds no position but the "
                       "promoted one, the promoted point reaches its height, and nothing else moves"
                     : "FAILS: " + pwhy;
      ps.svg = fig2.svg();
      ex.steps.push_back(ps);
    }
  }

  // Lemma 6: interpolation hats, checked by running the whole model on every sequence.
  ExplainStep hs;
  hs.title = "Interpolation hats (Lemma 6)";
  hs.lemma = "Now every requirement position carries one target; one hat per position (width " +
             std::string(opt.max_ff_width ? "capped: several layers" : "uncapped: one layer") +
             ") moves it onto its target and leaves every other relevant point in place.";
  std::ostringstream ih;
  ih << "  u = (1, s, s^2, ...) with s = " << tr.interpolation_s << "; " << tr.hats.size() << " hat(s):\n";
  for (std::size_t i = 0; i < tr.hats.size() && i < opt.max_listed; ++i)
    ih << "  " << vec_text(tr.hats[i].from) << " -> " << vec_text(tr.hats[i].to) << "  (sequences " << list_of(tr.hats[i].sequences, 6)
       << "; window " << q(tr.hats[i].t0) << " +- " << q(tr.hats[i].delta) << ", block " << tr.hats[i].layer << ")\n";
  if (tr.hats.size() > opt.max_listed) ih << "  ... (" << tr.hats.size() << " hats)\n";
  hs.here = ih.str();
  bool affordable = reference_cost_estimate(model, ds) <= 2e7;
  InterpolationCheck verdict = check_interpolation(model, ds, affordable ? Evaluator::Reference : Evaluator::Fast, 0);
  hs.has_check = true;
  hs.check_holds = !verdict.first;
  hs.check = hs.check_holds ? "the whole model was run exactly (" + std::string(affordable ? "reference" : "fast") +
                                  " evaluator) on all " + std::to_string(ds.sequences.size()) + " sequences: all " +
                                  std::to_string(ds.total_outputs()) + " output tokens equal their targets"
                            : "FAILS: " + std::to_string(verdict.mismatches) + " output tokens differ";
  {
    Figure fig;
    if (c.plane) fig.x_label = "k.z / |k|", fig.y_label = "w.z / |w|";
    for (const auto& h : tr.hats) {
      auto [x0, y0] = xy(c, h.from);
      auto [x1, y1] = xy(c, h.to);
      int col = h.sequences.empty() ? 0 : static_cast<int>(tr.context_of_sequence[h.sequences[0]]);
      fig.points.push_back({x0, y0, col, 'o', "requirement position " + vec_text(h.from)});
      fig.points.push_back({x1, y1, col, 'x', "target " + vec_text(h.to)});
      fig.arrows.push_back({x0, y0, x1, y1, col});
      if (!c.plane && tr.hats.size() <= 40) fig.strips.push_back({f(tr.u[0]), f(tr.u[1]), f(h.t0 - h.delta), f(h.t0 + h.delta)});
    }
    hs.svg = fig.svg();
  }
  ex.steps.push_back(hs);

  // Lemma 7: counting.
  ModelStats st = model_stats(model);
  ExplainStep ks;
  ks.title = "Counting (Lemma 7)";
  ks.lemma = "L <= R + M + 1 <= sum m_j + N blocks, one rank-one attention head per block, 3 neurons per hat: "
             "the size depends on sum m_j and N, not on the sequence lengths.";
  std::ostringstream kh;
  kh << "  L = " << st.blocks << " blocks (" << st.attention_layers << " attention, " << st.feed_forward_layers
     << " feed-forward layers); P = " << st.parameters << " parameters; widest layer " << st.max_ff_width
     << " neurons; rank(Q^T K) <= " << st.max_score_rank << ", rank(V) <= " << st.max_value_rank
     << "\n  |theta|^2 = " << rational_short(st.squared_norm) << " (so the Tikhonov objective has min J_eps <= eps |theta|^2)\n"
     << "  bounds: sum m_j + N = " << construction_block_bound(ds) << " (this construction), 2 sum m_j + 2N + 1 = "
     << paper_hardmax_block_bound(ds) << " (the paper, hardmax)\n";
  ks.here = kh.str();
  ks.has_check = true;
  ks.check_holds = st.blocks <= construction_block_bound(ds) && st.max_heads <= 1 && st.max_score_rank <= 1;
  ks.check = "counted from the model: L = " + std::to_string(st.blocks) +
             (ks.check_holds ? " <= " : " > ") + std::to_string(construction_block_bound(ds)) +
             ", at most one head, rank(Q^T K) <= 1";
  ex.steps.push_back(ks);

  for (const auto& s : ex.steps) ex.all_checks_hold = ex.all_checks_hold && (!s.has_check || s.check_holds);
  ex.exit_status = ex.all_checks_hold ? 0 : 1;
  ex.conclusion = ex.all_checks_hold
                      ? "CONCLUSION: by Lemmas 1-7, each checked above on your data, this " + std::to_string(st.blocks) +
                            "-block hardmax transformer interpolates your dataset exactly. `interpcert certify` writes "
                            "a certificate of it that `interpcert-check` re-verifies independently."
                      : "CONCLUSION: a check FAILED above. That is a bug in interpcert; please report it with the dataset.";
  return ex;
}

std::string explanation_html(const Explanation& ex, const std::string& name) {
  auto esc = [](const std::string& s) {
    std::string o;
    for (char ch : s) o += ch == '<' ? "&lt;" : ch == '>' ? "&gt;" : ch == '&' ? "&amp;" : std::string(1, ch);
    return o;
  };
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>interpcert explain: " + esc(name) +
                  "</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.45}"
                  "pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap}.ok{color:#1b7f1b;font-weight:bold}"
                  ".bad{color:#b00;font-weight:bold}section{border-top:1px solid #ddd;margin-top:1.5em}"
                  "svg.figure{display:block;margin:.5em 0}</style></head><body>\n";
  h += "<h1>Why a transformer interpolates <code>" + esc(name) + "</code> exactly</h1>\n<pre>" + esc(ex.header) + "</pre>\n";
  for (std::size_t i = 0; i < ex.steps.size(); ++i) {
    const auto& s = ex.steps[i];
    h += "<section><h2>Step " + std::to_string(i + 1) + ". " + esc(s.title) + "</h2>\n<p><em>" + esc(s.lemma) + "</em></p>\n";
    if (!s.here.empty()) h += "<pre>" + esc(s.here) + "</pre>\n";
    if (s.has_check)
      h += std::string("<p>Check (exact): <span class=\"") + (s.check_holds ? "ok\">HOLDS" : "bad\">FAILS") +
           "</span> &mdash; " + esc(s.check) + "</p>\n";
    h += s.svg;
    h += "</section>\n";
  }
  h += "<section><p><strong>" + esc(ex.conclusion) + "</strong></p></section>\n</body></html>\n";
  return h;
}

}  // namespace interpcert
