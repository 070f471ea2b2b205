package cityjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// depthOf returns how deeply the boundaries of a geometry type nest: 1 for
// MultiPoint ([v…]) up to 5 for MultiSolid ([[[[[v…]]]]]).
func depthOf(typ string) int {
	switch typ {
	case "MultiPoint":
		return 1
	case "MultiLineString":
		return 2
	case "MultiSurface", "CompositeSurface":
		return 3
	case "Solid":
		return 4
	case "MultiSolid", "CompositeSolid":
		return 5
	}
	return 0
}

// tree is a boundaries array flattened level by level. Level 0 is the
// outermost list; ends[L][k] is the exclusive end, in the items of level
// L+1 (or in leaves for the innermost level), of list k of level L.
type tree struct {
	depth  int
	ends   [][]int
	leaves []int
}

// span returns the range of level-L+1 items (or leaves) in list k of
// level L.
func (t *tree) span(level, k int) (int, int) {
	e := t.ends[level]
	if k == 0 {
		return 0, e[0]
	}
	return e[k-1], e[k]
}

// count returns the number of lists at a level.
func (t *tree) count(level int) int { return len(t.ends[level]) }

// primLevel is the level whose items carry semantics: points and line
// strings for depth 1 and 2, surfaces for the rest.
func (t *tree) primLevel() int {
	if t.depth <= 3 {
		return 1
	}
	return t.depth - 2
}

// maxLeaves bounds the vertex references of one geometry, so hostile input
// cannot make the importer allocate without bound.
const maxLeaves = 1 << 26

// parseTree parses a boundaries array of the given depth whose leaves are
// non-negative integers.
func parseTree(raw []byte, at pos, depth int) (*tree, error) {
	t := &tree{depth: depth, ends: make([][]int, depth)}
	s := newBytesScanner(raw, at)
	if err := t.parseList(s, 0); err != nil {
		return nil, err
	}
	if _, ok := s.skipWS(); ok {
		return nil, errAt(s.pos(), "boundaries: unexpected data after the array")
	}
	return t, nil
}

func (t *tree) parseList(s *scanner, level int) error {
	if err := s.expect('[', "boundaries"); err != nil {
		return err
	}
	inner := level == t.depth-1
	c, ok := s.skipWS()
	if !ok {
		return s.readErr("boundaries")
	}
	if c != ']' {
		for {
			if inner {
				tok, at, err := s.readScalar("boundaries")
				if err != nil {
					return err
				}
				v, ok := parseIndex(tok)
				if !ok {
					return errAt(at, "boundaries: %q is not a vertex index (want a non-negative integer at nesting depth %d)", truncate(string(tok), 40), t.depth)
				}
				if len(t.leaves) >= maxLeaves {
					return errAt(at, "boundaries: more than %d vertex references", maxLeaves)
				}
				t.leaves = append(t.leaves, v)
			} else if err := t.parseList(s, level+1); err != nil {
				return err
			}
			c, err := s.next("boundaries")
			if err != nil {
				return err
			}
			if c == ']' {
				break
			}
			if c != ',' {
				return errAt(s.pos(), "boundaries: expected ',' or ']', found %s (nesting must be %d deep)", quoteByte(c), t.depth)
			}
		}
	} else {
		s.advance(s.i + 1)
	}
	n := len(t.leaves)
	if !inner {
		n = len(t.ends[level+1])
	}
	t.ends[level] = append(t.ends[level], n)
	return nil
}

// leafPos finds the position of the k-th vertex index in a boundaries
// array (only computed for error messages).
func leafPos(raw []byte, at pos, k int) pos {
	n := -1
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c >= '0' && c <= '9' && (i == 0 || raw[i-1] < '0' || raw[i-1] > '9') {
			if n++; n == k {
				return at.within(raw, i)
			}
		}
	}
	return at
}

// parseIndex parses a non-negative decimal integer.
func parseIndex(tok []byte) (int, bool) {
	if len(tok) == 0 || len(tok) > 10 {
		return 0, false
	}
	v := 0
	for _, c := range tok {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, v <= math.MaxInt32
}

// geom is one decoded geometry with its vertices resolved to longitude,
// latitude and height.
type geom struct {
	typ      string
	lod      string
	t        *tree
	coords   [][3]float64 // one per leaf
	sem      []int        // semantic surface per primitive (-1: none); nil without semantics
	surfaces []semSurface
	semRaw   []byte // compact "semantics" member, for the cityjson:geometry property
	template int    // template index for an expanded GeometryInstance, else -1
}

// semSurface is one semantic surface object.
type semSurface struct {
	Type string `json:"type"`
}

// surfaceType returns the semantic type of primitive k, or "".
func (g *geom) surfaceType(k int) string {
	if g.sem == nil || k >= len(g.sem) || g.sem[k] < 0 || g.sem[k] >= len(g.surfaces) {
		return ""
	}
	return g.surfaces[g.sem[k]].Type
}

// isSurface reports geometries made of surfaces.
func (g *geom) isSurface() bool { return g.t.depth >= 3 }

// rawGeom holds a geometry object's members before resolution.
type rawGeom struct {
	typ        string
	lod        string
	boundaries []byte
	bAt        pos
	semantics  []byte
	sAt        pos
	template   int
	hasTpl     bool
	matrix     []float64
}

// readGeom splits a geometry object into its members. Appearance members
// (material, texture) and unknown members are skipped.
func readGeom(raw []byte, at pos) (*rawGeom, error) {
	g := &rawGeom{template: -1}
	err := forMembers(raw, at, "geometry", func(key string, val []byte, vat pos) error {
		switch key {
		case "type":
			return decode(val, vat, "geometry type", &g.typ)
		case "lod":
			lod, err := lodString(val, vat)
			g.lod = lod
			return err
		case "boundaries":
			g.boundaries, g.bAt = val, vat
		case "semantics":
			if !bytes.Equal(val, []byte("null")) {
				g.semantics, g.sAt = val, vat
			}
		case "template":
			g.hasTpl = true
			return decode(val, vat, "geometry template", &g.template)
		case "transformationMatrix":
			return decode(val, vat, "transformationMatrix", &g.matrix)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if g.typ == "" {
		return nil, errAt(at, "geometry without \"type\"")
	}
	if g.boundaries == nil {
		return nil, errAt(at, "%s geometry without \"boundaries\"", g.typ)
	}
	return g, nil
}

// lodString normalises "lod": a string in CityJSON 1.1/2.0, a number in 1.0.
func lodString(val []byte, at pos) (string, error) {
	val = bytes.TrimSpace(val)
	if len(val) > 0 && val[0] == '"' {
		var s string
		err := decode(val, at, "lod", &s)
		return s, err
	}
	if validNumber(val) {
		return string(val), nil
	}
	return "", errAt(at, "lod: want a string or number, found %q", truncate(string(val), 40))
}

// resolver turns vertex indices into converted coordinates.
type resolver interface {
	vertex(i int) ([3]float64, error)
	sourceVertex(i int) ([3]float64, bool)
	convert(p [3]float64) ([3]float64, error)
}

// buildGeom resolves a non-instance geometry against the vertices.
func buildGeom(rg *rawGeom, res resolver) (*geom, error) {
	depth := depthOf(rg.typ)
	if depth == 0 {
		return nil, errAt(rg.bAt, "unsupported geometry type %q", truncate(rg.typ, 40))
	}
	t, err := parseTree(rg.boundaries, rg.bAt, depth)
	if err != nil {
		return nil, err
	}
	g := &geom{typ: rg.typ, lod: rg.lod, t: t, template: -1, coords: make([][3]float64, len(t.leaves))}
	for k, v := range t.leaves {
		c, err := res.vertex(v)
		if err != nil {
			return nil, wrapAt(leafPos(rg.boundaries, rg.bAt, k), err)
		}
		g.coords[k] = c
	}
	if err := g.readSemantics(rg); err != nil {
		return nil, err
	}
	return g, nil
}

// readSemantics decodes the semantics member against the tree.
func (g *geom) readSemantics(rg *rawGeom) error {
	if rg.semantics == nil {
		return nil
	}
	var sem struct {
		Surfaces []semSurface `json:"surfaces"`
		Values   any          `json:"values"`
	}
	if err := decode(rg.semantics, rg.sAt, "semantics", &sem); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, rg.semantics); err != nil {
		return jsonErrAt(rg.semantics, rg.sAt, "semantics", err)
	}
	g.semRaw = buf.Bytes()
	g.surfaces = sem.Surfaces
	pl := g.t.primLevel()
	n := len(g.t.leaves)
	if pl < g.t.depth {
		n = g.t.count(pl)
	}
	g.sem = make([]int, n)
	for i := range g.sem {
		g.sem[i] = -1
	}
	g.walkSemantics(sem.Values, 0, 0, pl)
	return nil
}

// walkSemantics assigns semantic indices from the values tree v (for list
// k of level L) to the primitives of level pl.
func (g *geom) walkSemantics(v any, level, k, pl int) {
	arr, _ := v.([]any)
	start, end := g.t.span(level, k)
	for c := start; c < end; c++ {
		var child any
		if j := c - start; j < len(arr) {
			child = arr[j]
		}
		if level+1 == pl {
			if f, ok := child.(float64); ok && f >= 0 && f == math.Trunc(f) && f < float64(len(g.surfaces)) && c < len(g.sem) {
				g.sem[c] = int(f)
			}
			continue
		}
		g.walkSemantics(child, level+1, c, pl)
	}
}

// templateSet holds the document's geometry templates, parsed lazily.
type templateSet struct {
	raw      []*rawGeom
	parsed   []*tree
	vertices [][3]float64
}

// readTemplates decodes the "geometry-templates" member.
func readTemplates(raw []byte, at pos) (*templateSet, error) {
	ts := &templateSet{}
	err := forMembers(raw, at, "geometry-templates", func(key string, val []byte, vat pos) error {
		switch key {
		case "templates":
			return forElements(val, vat, "geometry template", func(_ int, tv []byte, tat pos) error {
				rg, err := readGeom(tv, tat)
				if err != nil {
					return err
				}
				if rg.typ == "GeometryInstance" {
					return errAt(tat, "a geometry template cannot be a GeometryInstance")
				}
				// The template outlives this buffer: copy what we keep.
				rg.boundaries = bytes.Clone(rg.boundaries)
				rg.semantics = bytes.Clone(rg.semantics)
				ts.raw = append(ts.raw, rg)
				return nil
			})
		case "vertices-templates":
			var vs [][]float64
			if err := decode(val, vat, "vertices-templates", &vs); err != nil {
				return err
			}
			for i, v := range vs {
				if len(v) != 3 || !finite(v[0]) || !finite(v[1]) || !finite(v[2]) {
					return errAt(vat, "vertices-templates[%d]: want 3 finite numbers", i)
				}
				ts.vertices = append(ts.vertices, [3]float64{v[0], v[1], v[2]})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ts.parsed = make([]*tree, len(ts.raw))
	return ts, nil
}

// expandInstance resolves a GeometryInstance: each template vertex v
// becomes reference point + M·v, then is converted.
func expandInstance(rg *rawGeom, ts *templateSet, res resolver) (*geom, error) {
	if !rg.hasTpl {
		return nil, errAt(rg.bAt, "GeometryInstance without \"template\"")
	}
	if ts == nil || rg.template < 0 || rg.template >= len(ts.raw) {
		n := 0
		if ts != nil {
			n = len(ts.raw)
		}
		return nil, errAt(rg.bAt, "GeometryInstance template %d does not exist (%d templates)", rg.template, n)
	}
	if len(rg.matrix) != 16 {
		return nil, errAt(rg.bAt, "GeometryInstance transformationMatrix has %d values (want 16)", len(rg.matrix))
	}
	for _, m := range rg.matrix {
		if !finite(m) {
			return nil, errAt(rg.bAt, "GeometryInstance transformationMatrix is not finite")
		}
	}
	ref, err := parseTree(rg.boundaries, rg.bAt, 1)
	if err != nil {
		return nil, err
	}
	if len(ref.leaves) != 1 {
		return nil, errAt(rg.bAt, "GeometryInstance boundaries must hold exactly one reference vertex, found %d", len(ref.leaves))
	}
	rp, ok := res.sourceVertex(ref.leaves[0])
	if !ok {
		return nil, errAt(rg.bAt, "GeometryInstance reference vertex %d does not exist", ref.leaves[0])
	}
	tr := ts.raw[rg.template]
	t := ts.parsed[rg.template]
	if t == nil {
		depth := depthOf(tr.typ)
		if depth == 0 {
			return nil, errAt(tr.bAt, "geometry template %d: unsupported geometry type %q", rg.template, truncate(tr.typ, 40))
		}
		if t, err = parseTree(tr.boundaries, tr.bAt, depth); err != nil {
			return nil, fmt.Errorf("geometry template %d: %w", rg.template, err)
		}
		ts.parsed[rg.template] = t
	}
	m := rg.matrix
	g := &geom{typ: tr.typ, lod: tr.lod, t: t, template: rg.template, coords: make([][3]float64, len(t.leaves))}
	for k, vi := range t.leaves {
		if vi >= len(ts.vertices) {
			return nil, errAt(tr.bAt, "geometry template %d: vertex %d does not exist (%d template vertices)", rg.template, vi, len(ts.vertices))
		}
		v := ts.vertices[vi]
		var p [3]float64
		for r := 0; r < 3; r++ {
			p[r] = m[4*r]*v[0] + m[4*r+1]*v[1] + m[4*r+2]*v[2] + m[4*r+3] + rp[r]
		}
		c, err := res.convert(p)
		if err != nil {
			return nil, wrapAt(rg.bAt, err)
		}
		g.coords[k] = c
	}
	if err := g.readSemantics(tr); err != nil {
		return nil, fmt.Errorf("geometry template %d: %w", rg.template, err)
	}
	return g, nil
}

// appendJSON writes the geometry as CityJSON with each vertex index
// replaced by its [longitude, latitude, height].
func (g *geom) appendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, g.typ)
	if g.lod != "" {
		b = append(b, `,"lod":`...)
		b = appendString(b, g.lod)
	}
	if g.template >= 0 {
		b = append(b, `,"template":`...)
		b = strconv.AppendInt(b, int64(g.template), 10)
	}
	b = append(b, `,"boundaries":`...)
	b = g.appendList(b, 0, 0)
	if g.semRaw != nil {
		b = append(b, `,"semantics":`...)
		b = append(b, g.semRaw...)
	}
	return append(b, '}')
}

func (g *geom) appendList(b []byte, level, k int) []byte {
	b = append(b, '[')
	start, end := g.t.span(level, k)
	for c := start; c < end; c++ {
		if c > start {
			b = append(b, ',')
		}
		if level == g.t.depth-1 {
			p := g.coords[c]
			b = append(b, '[')
			b = appendFloat(b, p[0])
			b = append(b, ',')
			b = appendFloat(b, p[1])
			b = append(b, ',')
			b = appendFloat(b, p[2])
			b = append(b, ']')
		} else {
			b = g.appendList(b, level+1, c)
		}
	}
	return append(b, ']')
}

// appendFloat formats like encoding/json: shortest round-trip digits.
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
