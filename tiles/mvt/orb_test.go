package mvt

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paulmach/orb"
)

// TestOrbProblemsDoNotApply feeds Encode the inputs on which
// github.com/paulmach/orb/encoding/mvt (v0.14.0) produces tiles that strict
// decoders reject, and checks the bytes (parsed independently of Decode):
//   - orb writes version-1 layers by default (NewLayer): every layer here is
//     written with version 2, whatever Layer.Version says;
//   - orb keeps the input winding, so GeoJSON polygons projected to y-down
//     tile space come out with negative-area exteriors: here every
//     polygon's first ring has positive area and its holes negative area;
//   - orb writes zero-length segments (repeated vertices, including the
//     closing vertex before ClosePath): here no LineTo has a (0,0) delta and
//     no ring repeats its first vertex;
//   - orb writes a LineTo with count 0 for a 1-point line: here no command
//     has count 0 and such lines are dropped;
//   - orb's clipping can leave zero-width bridges: this package does not
//     clip (its input is already in tile space); the encoder removes the
//     local form, a ring turning back on itself (spike), so no ring in the
//     bytes has one. (Non-adjacent overlapping edges can only be avoided by
//     the clipper.)
//
// The decoder side (orb accepts 16 of the 28 invalid fixtures) is checked
// by TestStrictDecoderRejectsInvalidFixtures.
func TestOrbProblemsDoNotApply(t *testing.T) {
	geojsonPoly := flipY(geoA) // CCW exterior in y-up → negative area in tile space
	tile := Tile{Layers: []Layer{
		{Name: "v-unset", Features: []Feature{{Type: GeomPolygon, Geometry: geojsonPoly}}},
		{Name: "v1", Version: 1, Features: []Feature{
			{Type: GeomPolygon, Geometry: orb.MultiPolygon{flipY(geoA), flipY(geoB)}},
			{Type: GeomLineString, Geometry: orb.LineString{{5, 5}}},
			{Type: GeomLineString, Geometry: orb.MultiLineString{{{1, 1}}, {{0, 0}, {0, 0}, {4, 0}, {4, 0}}}},
			{Type: GeomPolygon, Geometry: orb.Polygon{{{0, 0}, {0, 0}, {10, 0}, {10, 10}, {10, 10}, {0, 10}, {0, 0}}}},
			{Type: GeomPolygon, Geometry: orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {10, 30}, {10, 10}, {0, 10}, {0, 0}}}},
		}},
	}}
	raw := rawParse(t, mustEncode(t, tile))
	if len(raw) != 2 {
		t.Fatalf("%d layers", len(raw))
	}
	for _, l := range raw {
		if l.version != 2 {
			t.Errorf("layer %q: version %d, want 2", l.name, l.version)
		}
		for i, f := range l.features {
			paths, zeroCount, zeroDelta := refPaths(f.geom)
			if zeroCount > 0 {
				t.Errorf("layer %q feature %d: %d commands with count 0", l.name, i, zeroCount)
			}
			if zeroDelta > 0 {
				t.Errorf("layer %q feature %d: %d zero-length segments", l.name, i, zeroDelta)
			}
			for j, p := range paths {
				switch f.typ {
				case 2:
					if len(p.pts) < 2 {
						t.Errorf("layer %q feature %d: line %d has %d vertices", l.name, i, j, len(p.pts))
					}
				case 3:
					if p.pts[len(p.pts)-1] == p.pts[0] {
						t.Errorf("layer %q feature %d ring %d: closing vertex repeated", l.name, i, j)
					}
					if hasSpike(p.pts) {
						t.Errorf("layer %q feature %d ring %d: zero-width spike %v", l.name, i, j, p.pts)
					}
				}
			}
		}
	}
	// Winding: exteriors positive, holes negative, for the GeoJSON input.
	for li, want := range [][]int{{+1, -1}, {+1, -1, +1, -1, -1}} {
		paths, _, _ := refPaths(raw[li].features[0].geom)
		var got []int
		for _, p := range paths {
			if refArea(p.pts) > 0 {
				got = append(got, +1)
			} else {
				got = append(got, -1)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("layer %q: ring area signs %v, want %v", raw[li].name, got, want)
		}
	}
	// The 1-point line was dropped, the multiline kept its valid line.
	if n := len(raw[1].features); n != 4 {
		t.Errorf("layer v1: %d features, want 4 (1-point line dropped)", n)
	}
}

// hasSpike reports a vertex where an open ring turns back on itself.
func hasSpike(pts []orb.Point) bool {
	n := len(pts)
	for i := range pts {
		a, b, c := pts[(i+n-1)%n], pts[i], pts[(i+1)%n]
		ux, uy, vx, vy := b[0]-a[0], b[1]-a[1], c[0]-b[0], c[1]-b[1]
		if ux*vy-uy*vx == 0 && ux*vx+uy*vy < 0 {
			return true
		}
	}
	return false
}

// TestStrictDecoderRejectsInvalidFixtures: of the 28 fixtures invalid for
// v2, strict Decode accepts only 003, which is byte-identical to the valid
// fixture 016 (a feature without type field, decoded as UNKNOWN).
func TestStrictDecoderRejectsInvalidFixtures(t *testing.T) {
	var invalid, accepted []string
	for _, dir := range fixtureDirs(t) {
		fx := loadFixture(t, dir)
		if fx.info.Validity.V2 {
			continue
		}
		invalid = append(invalid, fx.id)
		if _, err := Decode(fx.mvt); err == nil {
			accepted = append(accepted, fx.id)
		}
	}
	if len(invalid) != 28 {
		t.Errorf("%d invalid fixtures, expected 28", len(invalid))
	}
	if !slices.Equal(accepted, []string{"003"}) {
		t.Errorf("strict Decode accepted %v, want only 003", accepted)
	}
	a, _ := os.ReadFile(filepath.Join(fixturesRoot, "fixtures", "003", "tile.mvt"))
	b, _ := os.ReadFile(filepath.Join(fixturesRoot, "fixtures", "016", "tile.mvt"))
	if !slices.Equal(a, b) {
		t.Error("003 and 016 are no longer identical; revisit the 003 handling")
	}
	t.Logf("invalid fixtures: %d, accepted by strict Decode: %v", len(invalid), accepted)
}
