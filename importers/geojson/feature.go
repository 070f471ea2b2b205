package geojson

import (
	"fmt"
	"unicode/utf8"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// span is a member value: its JSON text and the input offset of its first
// byte. A nil b means the member is absent.
type span struct {
	b   []byte
	off int64
}

// present reports whether the member exists.
func (s span) present() bool { return s.b != nil }

// null reports whether the member exists and is JSON null.
func (s span) null() bool { return string(s.b) == "null" }

// cursor returns a cursor over the value.
func (s span) cursor() cursor { return cursor{b: s.b, base: s.off} }

// members are the members of a GeoJSON object that the importer reads;
// others ("bbox", foreign members) are ignored. "geometry" and
// "properties" are parsed as they are read, so that their bytes are
// scanned once.
type members struct {
	start       int64 // offset of the object's '{'
	typ         span
	id          span
	geometry    span
	properties  span
	crs         span
	coordinates span
	geometries  span
	features    span

	geom     geomObj        // the parsed "geometry" object, if hasGeom
	hasGeom  bool           // "geometry" is an object
	props    map[string]any // the parsed "properties"
	propOffs propOffsets    // where the recognised properties are
}

// readMember reads the value of member key at c into m.
func (p *parser) readMember(m *members, key string, c *cursor) error {
	start := c.i
	switch {
	case key == "geometry" && c.peek() == '{':
		var err error
		if m.geom, err = p.object(c); err != nil {
			return err
		}
		m.hasGeom = true
	case key == "properties" && c.peek() == '{':
		var err error
		if m.props, err = p.properties(c, &m.propOffs); err != nil {
			return err
		}
	default:
		if !c.skip() {
			return c.malformed()
		}
	}
	v := span{b: c.b[start:c.i], off: c.offAt(start)}
	switch key {
	case "type":
		m.typ = v
	case "id":
		m.id = v
	case "geometry":
		m.geometry = v
	case "properties":
		m.properties = v
	case "crs":
		m.crs = v
	case "coordinates":
		m.coordinates = v
	case "geometries":
		m.geometries = v
	case "features":
		m.features = v
	}
	return nil
}

// readMembers reads the object in v.
func (p *parser) readMembers(v span) (members, error) {
	c := v.cursor()
	m := members{start: c.off()}
	if c.peek() != '{' {
		return m, badAt(c.off(), "want a JSON object, got %s", kind(c.peek()))
	}
	m.start = c.off()
	err := c.object(func(key []byte, esc bool) error {
		k, err := p.name(&c, key, esc)
		if err != nil {
			return err
		}
		return p.readMember(&m, k, &c)
	})
	return m, err
}

// maxNames bounds the member names a parser remembers.
const maxNames = 4096

// name returns a member name read by cursor.str. Names seen before (up to
// maxNames of them) share one string, so that the property names repeated
// in every feature are allocated once per import.
func (p *parser) name(c *cursor, key []byte, esc bool) (string, error) {
	if esc || !utf8.Valid(key) {
		k, err := unquote(key, esc)
		if err != nil {
			return "", badAtCause(c.off(), err, "bad member name")
		}
		return k, nil
	}
	if s, ok := p.names[string(key)]; ok {
		return s, nil
	}
	s := string(key)
	if len(p.names) < maxNames {
		if p.names == nil {
			p.names = make(map[string]string)
		}
		p.names[s] = s
	}
	return s, nil
}

// kind names the JSON value starting with c, for error messages.
func kind(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case isNumberStart(c):
		return "a number"
	case c == 0:
		return "nothing"
	}
	return fmt.Sprintf("%q", c)
}

// The GeoJSON object types.
const (
	typeFeature           = "Feature"
	typeFeatureCollection = "FeatureCollection"
	typeGeometryColl      = "GeometryCollection"
)

// geometryTypes lists the geometry types for error messages.
const geometryTypes = "Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon or GeometryCollection"

// isGeometryType reports whether t is a GeoJSON geometry type.
func isGeometryType(t string) bool {
	switch t {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", typeGeometryColl:
		return true
	}
	return false
}

// isGeoJSONType reports whether t is any GeoJSON object type.
func isGeoJSONType(t string) bool {
	return t == typeFeature || t == typeFeatureCollection || isGeometryType(t)
}

// typeName returns the "type" member's string ("" when absent).
func typeName(v span) (string, error) {
	if !v.present() {
		return "", nil
	}
	c := v.cursor()
	s, esc, ok := c.str()
	if !ok {
		return "", badAt(v.off, `"type" must be a string, got %s`, kind(c.peek()))
	}
	if !esc {
		// Return constants for the usual values so that nothing is
		// allocated.
		switch string(s) {
		case typeFeature:
			return typeFeature, nil
		case "Point":
			return "Point", nil
		case "Polygon":
			return "Polygon", nil
		case "MultiPolygon":
			return "MultiPolygon", nil
		case "LineString":
			return "LineString", nil
		}
	}
	t, err := unquote(s, esc)
	if err != nil {
		return "", badAtCause(v.off, err, `bad "type" string`)
	}
	return t, nil
}

// outsideLonLat reports whether g has coordinates outside longitude and
// latitude range, a hint that they are projected.
func outsideLonLat(g orb.Geometry) bool {
	if g == nil {
		return false
	}
	b := g.Bound()
	return b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90
}

// errNoGeometry is the cause for features without a geometry.
var errNoGeometry = fmt.Errorf("%w: the feature has no geometry (CityTwin features need one: null geometries are rejected)", spatial.ErrInvalid)
