#include "figure.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace interpcert {
namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
                          "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

using Poly = std::vector<std::pair<double, double>>;

// Keeps the part of a convex polygon where a x + b y >= c (Sutherland-Hodgman, one edge).
Poly clip(const Poly& in, double a, double b, double c) {
  Poly out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    auto p = in[i], q = in[(i + 1) % in.size()];
    double fp = a * p.first + b * p.second - c, fq = a * q.first + b * q.second - c;
    if (fp >= 0) out.push_back(p);
    if ((fp >= 0) != (fq >= 0)) {
      double t = fp / (fp - fq);
      out.push_back({p.first + t * (q.first - p.first), p.second + t * (q.second - p.second)});
    }
  }
  return out;
}

}  // namespace

std::string Figure::svg() const {
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  auto grow = [&](double x, double y) {
    if (!std::isfinite(x) || !std::isfinite(y)) return;
    x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  };
  for (const auto& p : points) grow(p.x, p.y);
  for (const auto& a : arrows) grow(a.x0, a.y0), grow(a.x1, a.y1);
  if (x0 > x1) x0 = y0 = -1, x1 = y1 = 1;
  double span = std::max({x1 - x0, y1 - y0, 1e-9}), pad = 0.08 * span;
  x0 -= pad, x1 += pad, y0 -= pad, y1 += pad;
  const double W = 520, H = 400, m = 36;
  double s = std::min((W - 2 * m) / (x1 - x0), (H - 2 * m) / (y1 - y0));
  auto X = [&](double x) { return m + (x - x0) * s; };
  auto Y = [&](double y) { return H - m - (y - y0) * s; };
  std::string o = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + num(W) + " " + num(H) +
                  "\" width=\"" + num(W) + "\" height=\"" + num(H) + "\" class=\"figure\">\n";
  o += "<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" "
       "orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#333\"/></marker></defs>\n";
  o += "<rect x=\"0\" y=\"0\" width=\"" + num(W) + "\" height=\"" + num(H) + "\" fill=\"#fcfcfc\" stroke=\"#ccc\"/>\n";
  for (const auto& st : strips) {
    Poly box = {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
    Poly p = clip(clip(box, st.ux, st.uy, st.lo), -st.ux, -st.uy, -st.hi);
    if (p.size() < 3) continue;
    o += "<polygon class=\"window\" fill=\"#ffd54f\" fill-opacity=\"0.45\" stroke=\"#e0a800\" points=\"";
    for (auto& [x, y] : p) o += num(X(x)) + "," + num(Y(y)) + " ";
    o += "\"/>\n";
  }
  for (const auto& a : arrows) {
    o += "<line x1=\"" + num(X(a.x0)) + "\" y1=\"" + num(Y(a.y0)) + "\" x2=\"" + num(X(a.x1)) + "\" y2=\"" +
         num(Y(a.y1)) + "\" stroke=\"" + kPalette[a.color % 10] + "\" stroke-width=\"1.4\" marker-end=\"url(#head)\"/>\n";
  }
  for (const auto& p : points) {
    std::string c = kPalette[p.color % 10], cx = num(X(p.x)), cy = num(Y(p.y));
    o += "<g><title>" + escape(p.title) + "</title>";
    if (p.marker == 'x') {
      double r = 5;
      o += "<path d=\"M " + num(X(p.x) - r) + " " + num(Y(p.y) - r) + " L " + num(X(p.x) + r) + " " + num(Y(p.y) + r) +
           " M " + num(X(p.x) - r) + " " + num(Y(p.y) + r) + " L " + num(X(p.x) + r) + " " + num(Y(p.y) - r) +
           "\" stroke=\"" + c + "\" stroke-width=\"2.2\"/>";
    } else {
      o += "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"5\" fill=\"" + c + "\" fill-opacity=\"0.75\"/>";
      if (p.marker == '*')
        o += "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"9\" fill=\"none\" stroke=\"" + c + "\" stroke-width=\"2\"/>";
    }
    o += "</g>\n";
  }
  o += "<text x=\"" + num(W / 2) + "\" y=\"" + num(H - 8) + "\" font-size=\"12\" text-anchor=\"middle\">" +
       escape(x_label) + "</text>\n";
  o += "<text x=\"12\" y=\"" + num(H / 2) + "\" font-size=\"12\" transform=\"rotate(-90 12 " + num(H / 2) +
       ")\" text-anchor=\"middle\">" + escape(y_label) + "</text>\n</svg>\n";
  return o;
}

}  // namespace interpcert
