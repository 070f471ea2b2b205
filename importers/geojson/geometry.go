package geojson

import (
	"encoding/json"
	"strings"

	"citytwin/importers"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// parseCRS reads a GeoJSON 2008 "crs" member: a named CRS
// ({"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}}) or
// an EPSG code ({"type":"EPSG","properties":{"code":4490}}). JSON null
// yields nil (no declaration); linked CRSs are not supported.
func parseCRS(v span) (crs.CRS, error) {
	if v.null() {
		return nil, nil
	}
	var d struct {
		Type       string
		Properties struct {
			Name string
			Code json.Number
		}
	}
	if err := json.Unmarshal(v.b, &d); err != nil {
		return nil, badAtCause(v.off, err, `bad "crs" member`)
	}
	var name string
	switch strings.ToLower(d.Type) {
	case "name":
		name = d.Properties.Name
	case "epsg":
		name = "EPSG:" + d.Properties.Code.String()
	default:
		return nil, badAt(v.off, `"crs" of type %q is not supported (want "name" or "EPSG")`, d.Type)
	}
	c, err := crs.Lookup(name)
	if err != nil {
		return nil, at(v.off, &formatError{msg: `"crs" member`, cause: err})
	}
	return c, nil
}

// parser converts the members of GeoJSON objects, reusing a scratch
// buffer for coordinates and the strings of member names.
type parser struct {
	fixed   bool // the CRS is fixed by Options: ignore "crs" members
	scratch []orb.Point
	names   map[string]string // see name
}

// position reads one position; hasZ reports a third number.
func (p *parser) position(c *cursor) (pt orb.Point, z float64, hasZ bool, err error) {
	start := c.off()
	if !c.eat('[') {
		return pt, 0, false, badAt(start, "a position must be an array of numbers, got %s", kind(c.peek()))
	}
	var v [3]float64
	k := 0
	if !c.eat(']') {
		for {
			at := c.off()
			x, ok, err := c.float()
			if err != nil {
				return pt, 0, false, err
			}
			if !ok {
				return pt, 0, false, badAt(at, "a position must be an array of numbers, got %s", kind(c.peek()))
			}
			if k < len(v) {
				v[k] = x
			}
			k++
			if c.eat(',') {
				continue
			}
			if c.eat(']') {
				break
			}
			return pt, 0, false, c.malformed()
		}
	}
	if k < 2 {
		return pt, 0, false, badAt(start, "a position needs at least 2 numbers, got %d", k)
	}
	return orb.Point{v[0], v[1]}, v[2], k > 2, nil
}

// line reads an array of positions into a slice of exactly its length.
func (p *parser) line(c *cursor) ([]orb.Point, error) {
	if c.peek() != '[' {
		return nil, badAt(c.off(), "want an array of positions, got %s", kind(c.peek()))
	}
	s := p.scratch[:0]
	err := c.array(func() error {
		pt, _, _, err := p.position(c)
		s = append(s, pt)
		return err
	})
	p.scratch = s
	if err != nil {
		return nil, err
	}
	out := make([]orb.Point, len(s))
	copy(out, s)
	return out, nil
}

// lines reads an array of arrays of positions.
func lines[L ~[]orb.Point](p *parser, c *cursor) ([]L, error) {
	if c.peek() != '[' {
		return nil, badAt(c.off(), "want an array of arrays of positions, got %s", kind(c.peek()))
	}
	var out []L
	err := c.array(func() error {
		l, err := p.line(c)
		out = append(out, L(l))
		return err
	})
	return out, err
}

// polygons reads an array of polygons.
func (p *parser) polygons(c *cursor) (orb.MultiPolygon, error) {
	if c.peek() != '[' {
		return nil, badAt(c.off(), "want an array of polygons, got %s", kind(c.peek()))
	}
	var out orb.MultiPolygon
	err := c.array(func() error {
		rings, err := lines[orb.Ring](p, c)
		out = append(out, orb.Polygon(rings))
		return err
	})
	return out, err
}

// coordinates reads the "coordinates" of a geometry of type t (not a
// GeometryCollection), unconverted.
func (p *parser) coordinates(c *cursor, t string) (g orb.Geometry, z float64, hasZ bool, err error) {
	switch t {
	case "Point":
		return p.position(c)
	case "MultiPoint":
		l, err := p.line(c)
		return orb.MultiPoint(l), 0, false, err
	case "LineString":
		l, err := p.line(c)
		return orb.LineString(l), 0, false, err
	case "MultiLineString":
		l, err := lines[orb.LineString](p, c)
		return orb.MultiLineString(l), 0, false, err
	case "Polygon":
		r, err := lines[orb.Ring](p, c)
		return orb.Polygon(r), 0, false, err
	case "MultiPolygon":
		mp, err := p.polygons(c)
		return mp, 0, false, err
	}
	return nil, 0, false, badAt(c.off(), "no coordinates for type %q", t)
}

// geomObj is a geometry object as read. Its coordinates are parsed as
// they are read when "type" comes first (as usual), else when it is built.
type geomObj struct {
	start       int64
	typ         span
	t           string // the type, when known
	coordinates span
	geometries  span
	crs         span
	g           orb.Geometry // parsed coordinates, unconverted
	z           float64
	hasZ        bool
}

// object reads the geometry object at c.
func (p *parser) object(c *cursor) (geomObj, error) {
	o := geomObj{start: c.off()}
	err := c.object(func(key []byte, esc bool) error {
		k, err := p.name(c, key, esc)
		if err != nil {
			return err
		}
		start := c.i
		switch k {
		case "coordinates":
			if o.t != "" && o.t != typeGeometryColl && c.peek() != 'n' {
				if o.g, o.z, o.hasZ, err = p.coordinates(c, o.t); err != nil {
					return err
				}
				break
			}
			fallthrough
		default:
			if !c.skip() {
				return c.malformed()
			}
		}
		v := span{b: c.b[start:c.i], off: c.offAt(start)}
		switch k {
		case "type":
			o.typ = v
			if o.t, err = geometryType(v, o.start); err != nil {
				return err
			}
		case "coordinates":
			o.coordinates = v
		case "geometries":
			o.geometries = v
		case "crs":
			o.crs = v
		}
		return nil
	})
	return o, err
}

// geomFromMembers returns the geometry object of a bare geometry.
func geomFromMembers(m *members) (geomObj, error) {
	o := geomObj{start: m.start, typ: m.typ, coordinates: m.coordinates, geometries: m.geometries, crs: m.crs}
	var err error
	o.t, err = geometryType(m.typ, m.start)
	return o, err
}

// build finishes a geometry read by object: it checks the type, parses
// coordinates not yet parsed, builds collections, and converts the
// coordinates with c (nil: none) or the object's own "crs".
func (p *parser) build(o *geomObj, c crs.CRS, depth int) (g orb.Geometry, z float64, hasZ bool, err error) {
	if o.t == "" {
		return nil, 0, false, badAt(o.start, `geometry object has no "type" member`)
	}
	if !p.fixed && o.crs.present() {
		own, err := parseCRS(o.crs)
		if err != nil {
			return nil, 0, false, err
		}
		if own != nil {
			c = own
		}
	}
	if o.t == typeGeometryColl {
		g, err := p.collection(o, c, depth)
		return g, 0, false, err
	}
	if o.g == nil {
		if !o.coordinates.present() || o.coordinates.null() {
			return nil, 0, false, badAt(o.start, `%s has no "coordinates"`, o.t)
		}
		cur := o.coordinates.cursor()
		if o.g, o.z, o.hasZ, err = p.coordinates(&cur, o.t); err != nil {
			return nil, 0, false, err
		}
	}
	if c != nil {
		if o.g, err = importers.ToWGS84(o.g, c); err != nil {
			return nil, 0, false, at(o.coordinates.off, err)
		}
	}
	return o.g, o.z, o.hasZ, nil
}

// collection builds a GeometryCollection.
func (p *parser) collection(o *geomObj, c crs.CRS, depth int) (orb.Geometry, error) {
	if depth >= maxDepth {
		return nil, badAt(o.start, "GeometryCollections nested more than %d deep", maxDepth)
	}
	if !o.geometries.present() || o.geometries.null() {
		return nil, badAt(o.start, `GeometryCollection has no "geometries" array`)
	}
	cur := o.geometries.cursor()
	if cur.peek() != '[' {
		return nil, badAt(cur.off(), `"geometries" must be an array, got %s`, kind(cur.peek()))
	}
	coll := orb.Collection{}
	err := cur.array(func() error {
		if cur.peek() != '{' {
			return badAt(cur.off(), "a geometry must be an object, got %s", kind(cur.peek()))
		}
		member, err := p.object(&cur)
		if err != nil {
			return err
		}
		g, _, _, err := p.build(&member, c, depth+1)
		coll = append(coll, g)
		return err
	})
	return coll, err
}

// maxDepth bounds the nesting of GeometryCollections.
const maxDepth = 64

// geometryType returns the type named by the "type" member v of the
// geometry object at start, checking it.
func geometryType(v span, start int64) (string, error) {
	t, err := typeName(v)
	if err != nil {
		return "", err
	}
	switch {
	case t == "":
		return "", badAt(start, `geometry object has no "type" member`)
	case !isGeometryType(t):
		return "", badAt(v.off, "unknown geometry type %q (want %s)", t, geometryTypes)
	}
	return t, nil
}
