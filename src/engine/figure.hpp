// Private to explain: 2-D figures as inline SVG. Coordinates are doubles: they draw pictures and
// never carry a claim (every claim is checked in exact arithmetic before it is drawn).
#pragma once

#include <string>
#include <vector>

namespace interpcert {

struct Figure {
  struct Point {
    double x, y;
    int color;          ///< sequence / context index (palette)
    char marker = 'o';  ///< 'o' token, 'x' target, '*' leader
    std::string title;  ///< tooltip
  };
  struct Arrow {
    double x0, y0, x1, y1;
    int color;
  };
  /// The slab {p : lo < ux px + uy py < hi} (a hat's window), shaded.
  struct Strip {
    double ux, uy, lo, hi;
  };
  std::vector<Point> points;
  std::vector<Arrow> arrows;
  std::vector<Strip> strips;
  std::string x_label = "x1", y_label = "x2";
  /// The figure as an inline <svg> element.
  std::string svg() const;
};

}  // namespace interpcert
